import assert from "node:assert/strict";
import { test } from "node:test";
import { GLOB_NESTING_MAX, globMatch, literalPrefix } from "../../src/server/resp/glob.js";

/** [pattern, subject, whether Redis 7.0's stringmatchlen matches] — each answer taken from Redis's own C function. */
const REDIS_ANSWERS: [string, string, boolean][] = [
  ["**", "", false],
  ["a*", "a", true],
  ["a*b", "ab", true],
  ["a*b", "axxb", true],
  ["a*b", "axxbc", false],
  ["a?c", "abc", true],
  ["a?c", "ac", false],
  ["?", "", false],
  ["[abc]", "b", true],
  ["[abc]", "d", false],
  ["[^abc]", "d", true],
  ["[^abc]", "a", false],
  ["[a-c]", "b", true],
  ["[c-a]", "b", true],
  ["[a-c]", "d", false],
  ["[a-]", "]", true],
  ["[a-]", "-", false],
  ["[\\]]", "]", true],
  ["[\\]", "]", true],
  ["\\*", "*", true],
  ["\\*", "a", false],
  ["\\", "\\", true],
  ["a\\", "a\\", true],
  ["[", "[", false],
  ["[abc", "a", true],
  ["[abc", "c", true],
  ["[^", "x", true],
  ["[^", "", false],
  ["a[", "a[", false],
  ["[]", "]", false],
  ["[]]", "]", false],
  ["*[", "x[", false],
  ["h[^e]llo", "hallo", true],
  ["h[^e]llo", "hello", false],
  ["h*llo", "heeeello", true],
  ["a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false],
  ["*a", "ba", true],
  ["a**", "a", true],
  ["*?*", "x", true],
  ["*?*", "", false],
  ["[\x00-\x7f]", "\x80", false],
  ["[\x80-\xff]", "\xc0", true],
  ["[\x00-\xff]", "\x80", false],
  ["[\x00-\xff]", "a", false],
  ["[\xff-\x00]", "a", false],
];

test("patterns match as Redis's stringmatchlen does, its quirks included", () => {
  for (const [pattern, subject, expected] of REDIS_ANSWERS) {
    assert.equal(globMatch(pattern, subject), expected, `${JSON.stringify(pattern)} against ${JSON.stringify(subject)}`);
  }
});

/** The same in Redis's nocase mode (CONFIG GET): ASCII letters fold, an escaped one in brackets does not, and ranges fold as glibc's tolower does. */
const REDIS_NOCASE_ANSWERS: [string, string, boolean][] = [
  ["ABC", "abc", true],
  ["a*C", "AxxC", true],
  ["[A-Z]", "q", true],
  ["[a-z]", "Q", true],
  ["[Z-a]", "_", false],
  ["[Z-a]", "z", false],
  ["[\\A]", "a", false],
  ["[^A]", "a", false],
  ["\\A", "a", true],
  ["h?LLO", "HeLlo", true],
  ["[\xc0-\xff]", "\xe0", false],
  ["\xc0", "\xe0", false],
];

test("with noCase, patterns match as Redis's stringmatchlen does in nocase mode", () => {
  for (const [pattern, subject, expected] of REDIS_NOCASE_ANSWERS) {
    assert.equal(globMatch(pattern, subject, true), expected, `${JSON.stringify(pattern)} against ${JSON.stringify(subject)}`);
  }
});

test("a lone star matches every key, the empty one too, as KEYS and SCAN treat it", () => {
  assert.equal(globMatch("*", ""), true);
  assert.equal(globMatch("*", "\x00\xff"), true);
});

test("matching is binary-safe and case-sensitive", () => {
  assert.equal(globMatch("a\x00?", "a\x00\xff"), true);
  assert.equal(globMatch("a\x00?", "a\x01\xff"), false);
  assert.equal(globMatch("ABC", "abc"), false);
  assert.equal(globMatch("[A-Z]", "a"), false);
  assert.equal(globMatch("\xe9*", "\xe9t\xe9"), true);
});

test("a pattern of many stars fails fast on a long subject, and one nested too deep matches nothing", () => {
  const started = Date.now();
  assert.equal(globMatch(`${"a*".repeat(30)}b`, "a".repeat(5000)), false);
  assert.equal(globMatch(`${"*a".repeat(200)}*`, `${"a".repeat(200)}`), true);
  assert.ok(Date.now() - started < 2000);
  const deep = `${"a*".repeat(GLOB_NESTING_MAX + 5)}`;
  assert.equal(globMatch(deep, "a".repeat(GLOB_NESTING_MAX + 5)), false);
  assert.equal(globMatch(`${"a*".repeat(GLOB_NESTING_MAX - 5)}`, "a".repeat(GLOB_NESTING_MAX)), true);
});

test("the literal prefix of a pattern ends at its first special character", () => {
  assert.equal(literalPrefix("key:1??"), "key:1");
  assert.equal(literalPrefix("user:*:name"), "user:");
  assert.equal(literalPrefix("a[bc]"), "a");
  assert.equal(literalPrefix("a\\*b"), "a");
  assert.equal(literalPrefix("plain"), "plain");
  assert.equal(literalPrefix("*x"), "");
  for (const [pattern, subject, matches] of REDIS_ANSWERS) {
    if (matches) assert.ok(subject.startsWith(literalPrefix(pattern)), pattern);
  }
});
