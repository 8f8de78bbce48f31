/**
 * The Redis-suite harness's pure parts: reading runtest's output, the skip list, and the
 * comparison that makes the headline. The outputs below are what runtest 7.0.15 prints.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { compare, headline, summarizeTarget, summarizeUnit, unitLine } from "../../scripts/redis-suite/compare.js";
import { parseRuntestOutput } from "../../scripts/redis-suite/runtest-output.js";
import { entryMatches, parseSkipList, skipFileText } from "../../scripts/redis-suite/skip-list.js";

const FINISHED = `Cleanup: may take some time... OK
Starting test server at port 21079
[ready]: 29760
Testing unit/type/incr
[ok]: INCR against non existing key (1 ms)
[ignore]: INCR uses shared objects in the 0-9999 range: Tag: needs:debug denied
[err]: INCR fails against key with spaces (left) in tests/unit/type/incr.tcl
Expected 'ERR value is not an integer or out of range' to match 'ERR*' (context: type eval line 3)
    while executing
"assert_match"
[skip]: INCRBYFLOAT does not allow NaN or Infinity
[ignore]: Tag: needs:debug denied
[err]: pen socket: connection refused
couldn't open socket: connection refused
    while executing
"{*}$r info"
[ok]: string to double with null terminator (0 ms)
[1/1 done]: unit/type/incr (0 seconds)

                   The End

Execution time of different units:
  0 seconds - unit/type/incr

!!! WARNING The following tests failed:

*** [err]: INCR fails against key with spaces (left) in tests/unit/type/incr.tcl
[ok]: not a test, after the end (0 ms)
`;

const CRASHED = `Testing unit/type/incr
[ok]: INCR against non existing key (1 ms)
[exception]: Executing test client: couldn't open socket: connection refused.
couldn't open socket: connection refused
    while executing
"socket $server $port"
`;

test("runtest's output gives one outcome per test, with the failure's reason", () => {
  const report = parseRuntestOutput(FINISHED);
  assert.deepEqual(
    report.tests.map((t) => [t.name, t.outcome]),
    [
      ["INCR against non existing key", "ok"],
      ["INCR uses shared objects in the 0-9999 range", "ignore"],
      ["INCR fails against key with spaces (left)", "err"],
      ["INCRBYFLOAT does not allow NaN or Infinity", "skip"],
      ["string to double with null terminator", "ok"],
    ],
  );
  assert.equal(report.tests[0]?.ms, 1);
  assert.match(report.tests[2]?.detail ?? "", /^Expected 'ERR value is not an integer/);
  assert.doesNotMatch(report.tests[2]?.detail ?? "", /\[skip\]/);
  assert.equal(report.blockErrors.length, 1);
  assert.match(report.blockErrors[0]!, /^pen socket: connection refused\ncouldn't open socket/);
  assert.deepEqual(report.doneUnits, ["unit/type/incr"]);
  assert.equal(report.exception, undefined);
  assert.equal(report.timedOut, false);
});

test("an exception from the test client marks the unit as cut short", () => {
  const report = parseRuntestOutput(CRASHED);
  assert.equal(report.tests.length, 1);
  assert.match(report.exception ?? "", /^Executing test client: couldn't open socket/);
  assert.deepEqual(report.doneUnits, []);
  assert.equal(parseRuntestOutput("[TIMEOUT]: clients state report follows.\n").timedOut, true);
});

test("the skip list gives every entry a unit and a reason, and turns into runtest's skip file per unit", () => {
  const entries = parseSkipList(
    "# comment\n\nunit/keyspace | COPY basic usage for list | no lists\nunit/type/incr | /^INCRBYFLOAT | no floats\n",
  );
  assert.deepEqual(
    entries.map((e) => [e.unit, e.name, e.reason, e.line]),
    [
      ["unit/keyspace", "COPY basic usage for list", "no lists", 3],
      ["unit/type/incr", "/^INCRBYFLOAT", "no floats", 4],
    ],
  );
  assert.equal(skipFileText(entries, "unit/keyspace"), "COPY basic usage for list\n");
  assert.ok(entryMatches(entries[1]!, "INCRBYFLOAT against non existing key"));
  assert.ok(!entryMatches(entries[0]!, "COPY basic usage for list and more"));
  assert.throws(() => parseSkipList("unit/keyspace | no reason\n"), /:1: expected/);
  assert.throws(() => parseSkipList("keyspace | a test | why\n"), /not a unit name/);
  assert.throws(() => parseSkipList("unit/keyspace | a | b\nunit/keyspace | a | c\n"), /listed twice/);
});

test("the committed skip list parses", () => {
  parseSkipList(readFileSync(new URL("../../scripts/redis-suite/skip-list.txt", import.meta.url), "utf8"));
});

test("the headline counts only tests that pass against Redis, matched by name and occurrence", () => {
  const extra = { blockErrors: [], aborted: [], durationMs: 1, runtestLog: undefined, serverLog: undefined };
  const redis = summarizeTarget(
    "redis",
    "redis-server 7.0.15",
    [
      summarizeUnit(
        "unit/x",
        [
          { name: "a", outcome: "ok" },
          { name: "twice", outcome: "ok" },
          { name: "twice", outcome: "ok" },
          { name: "b", outcome: "ok" },
          { name: "c", outcome: "ok" },
          { name: "flaky on redis", outcome: "err" },
        ],
        extra,
      ),
    ],
    1,
  );
  const logbook = summarizeTarget(
    "logbook",
    "logbook",
    [
      summarizeUnit(
        "unit/x",
        [
          { name: "a", outcome: "ok" },
          { name: "twice", outcome: "ok" },
          { name: "twice", outcome: "err", detail: "Expected 1" },
          { name: "b", outcome: "skip" },
          { name: "flaky on redis", outcome: "ok" },
        ],
        extra,
      ),
    ],
    1,
  );
  const result = compare(redis, logbook, 0.95);
  assert.equal(result.reference, 5);
  assert.equal(result.passed, 2);
  assert.deepEqual(
    result.missed.map((m) => [m.name, m.outcome]),
    [
      ["twice", "err"],
      ["b", "skip"],
      ["c", "not run"],
    ],
  );
  assert.deepEqual(result.passedOnlyByCandidate, [{ unit: "unit/x", name: "flaky on redis" }]);
  assert.equal(result.skipped, 1);
  assert.equal(
    headline(result),
    "2 of the 4 tests that pass against Redis and are not on the skip list pass against Logbook (50.0%, goal >= 95%: goal NOT met); 2 of all 5 that pass against Redis (40.0%, 1 skipped with a reason)",
  );
  assert.match(unitLine(logbook.units[0]!), /^unit\/x: 3 passed, 1 failed, 1 skipped \(skip list\)/);
});
