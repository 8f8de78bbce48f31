/**
 * Reads what Redis's `runtest` prints (tests/test_helper.tcl, `read_from_test_client`) into one
 * outcome per test. The status words carry no colour codes when TERM is not an xterm, which is
 * how the harness runs it.
 *
 *   [ok]: NAME (N ms)             the test passed
 *   [err]: NAME in tests/U.tcl    the test failed; the lines after it, up to the next status line, say why
 *   [err]: MESSAGE                no " in tests/….tcl": a start_server block failed outside any test
 *                                 (runs with --durable); the block's remaining tests never ran
 *   [skip]: NAME                  skipped by --skipfile, --skiptest or --only
 *   [ignore]: NAME: REASON        left out by a tag, or by external/singledb mode
 *   [ignore]: REASON              a whole tagged block left out
 *   [exception]: TEXT             the test client died (a connection refused outside any test, say):
 *                                 runtest stops, and the rest of the unit never ran
 *   [TIMEOUT]: …                  no progress for --timeout seconds: runtest killed its client
 *   [k/n done]: UNIT (N seconds)  the unit ran to its end
 * After "The End" runtest repeats the failures; the parser stops there.
 */

export type TestOutcome = "ok" | "err" | "skip" | "ignore";

export interface TestResult {
  name: string;
  outcome: TestOutcome;
  /** How long a passing test took, as runtest measured it. */
  ms?: number;
  /** Why a test failed or was ignored (first lines only). */
  detail?: string;
}

export interface RuntestReport {
  tests: TestResult[];
  /** Failures of start_server blocks outside any test: the tests after the failure point in that block did not run. */
  blockErrors: string[];
  /** The test client's exception: the unit was cut short there. */
  exception: string | undefined;
  /** runtest's own no-progress timeout fired. */
  timedOut: boolean;
  /** Units runtest reported as done. */
  doneUnits: string[];
}

/** The most characters of failure detail kept per test: enough for the assertion and the start of the Tcl stack. */
export const DETAIL_CHARS_MAX = 1500;

const OK_LINE = /^\[ok\]: (.*) \((\d+) ms\)$/;
const STATUS_LINE = /^\[(ok|err|skip|ignore|exception|TIMEOUT|ready|\d+\/\d+ done)\]: ?(.*)$/;
const TEST_IN_FILE = /^(.*) in tests\/\S+\.tcl$/;
const IGNORE_REASON = /^(.*): (Tag: .+ denied|Tag: none of the tags allowed|Not supported .+|large memory flag not provided)$/;
const DONE_UNIT = /^(\S+) \(\d+ seconds\)$/;
const THE_END = /^\s*The End\s*$/;

interface Pending {
  kind: "test" | "block" | "exception";
  lines: string[];
}

export function parseRuntestOutput(output: string): RuntestReport {
  const report: RuntestReport = { tests: [], blockErrors: [], exception: undefined, timedOut: false, doneUnits: [] };
  let pending: Pending | undefined;
  const settle = () => {
    if (pending !== undefined) settlePending(report, pending);
    pending = undefined;
  };
  for (const line of output.split("\n").map((text) => text.replace(/\r$/, ""))) {
    if (THE_END.test(line)) break;
    const status = STATUS_LINE.exec(line);
    if (status === null) {
      pending?.lines.push(line);
      continue;
    }
    settle();
    pending = readStatusLine(report, line, status[1]!, status[2]!);
  }
  settle();
  return report;
}

function readStatusLine(report: RuntestReport, line: string, word: string, rest: string): Pending | undefined {
  if (word === "ok") {
    const ok = OK_LINE.exec(line);
    report.tests.push(ok === null ? { name: rest, outcome: "ok" } : { name: ok[1]!, outcome: "ok", ms: Number(ok[2]) });
  } else if (word === "err") {
    const named = TEST_IN_FILE.exec(rest);
    if (named !== null) {
      report.tests.push({ name: named[1]!, outcome: "err" });
      return { kind: "test", lines: [] };
    }
    return { kind: "block", lines: [rest] };
  } else if (word === "skip") {
    report.tests.push({ name: rest, outcome: "skip" });
  } else if (word === "ignore") {
    const ignored = IGNORE_REASON.exec(rest);
    if (ignored !== null) report.tests.push({ name: ignored[1]!, outcome: "ignore", detail: ignored[2]! });
  } else if (word === "exception") {
    return { kind: "exception", lines: [rest] };
  } else if (word === "TIMEOUT") {
    report.timedOut = true;
  } else if (word.endsWith(" done")) {
    const done = DONE_UNIT.exec(rest);
    if (done !== null) report.doneUnits.push(done[1]!);
  }
  return undefined;
}

function settlePending(report: RuntestReport, pending: Pending): void {
  const text = pending.lines.join("\n").trim().slice(0, DETAIL_CHARS_MAX);
  if (pending.kind === "test") {
    const failed = report.tests[report.tests.length - 1]!;
    failed.detail = text;
  } else if (pending.kind === "block") {
    report.blockErrors.push(text);
  } else {
    report.exception = text;
  }
}
