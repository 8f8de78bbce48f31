/**
 * Redis's glob matching (stringmatchlen in util.c): `*`, `?`, `[abc]`, `[^a-z]`, and `\x` for a
 * literal x. CONFIG GET (case-insensitive) and COMMAND LIST FILTERBY PATTERN use it.
 */

/** The longest pattern matched: stringmatchlen recurses per `*`, and a pattern bounds the work. */
export const GLOB_PATTERN_CHARS_MAX = 1024;

export function globMatch(pattern: string, text: string, noCase = false): boolean {
  if (pattern.length > GLOB_PATTERN_CHARS_MAX) return false;
  const p = noCase ? pattern.toLowerCase() : pattern;
  const s = noCase ? text.toLowerCase() : text;
  return matchFrom(p, 0, s, 0);
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi] as string;
    if (c === "*") {
      while (p[pi + 1] === "*") pi++;
      if (pi + 1 === p.length) return true;
      for (let from = si; from <= s.length; from++) if (matchFrom(p, pi + 1, s, from)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === "?") {
      si++;
      pi++;
      continue;
    }
    if (c === "[") {
      const end = matchClass(p, pi, s[si] as string);
      if (end.matched === false) return false;
      pi = end.next;
      si++;
      continue;
    }
    let literal = c;
    if (c === "\\" && pi + 1 < p.length) literal = p[++pi] as string;
    if (literal !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

/** Matches `ch` against the class opening at `pi`; `next` is the index after its `]`. */
function matchClass(p: string, pi: number, ch: string): { matched: boolean; next: number } {
  let i = pi + 1;
  const not = p[i] === "^";
  if (not) i++;
  let matched = false;
  while (i < p.length && p[i] !== "]") {
    if (p[i] === "\\" && i + 1 < p.length) {
      i++;
      if (p[i] === ch) matched = true;
    } else if (p[i + 1] === "-" && i + 2 < p.length) {
      let low = p[i] as string;
      let high = p[i + 2] as string;
      if (low > high) [low, high] = [high, low];
      if (ch >= low && ch <= high) matched = true;
      i += 2;
    } else if (p[i] === ch) {
      matched = true;
    }
    i++;
  }
  // An unclosed class ends the pattern, as in Redis.
  return { matched: not ? !matched : matched, next: Math.min(i + 1, p.length) };
}
