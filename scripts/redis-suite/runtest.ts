/**
 * One unit of Redis's suite, run by its own `./runtest` in external mode against one server.
 * One runtest per unit: an exception (a connection refused outside any test, when a server
 * crashed or closed the connection) makes runtest stop, and on its own it would take the
 * following units with it. runtest and its Tcl test client run in a process group of their own,
 * killed with SIGKILL when the unit overruns its time and in any case once runtest has exited.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { killNow, track, untrack } from "./children.js";
import { parseRuntestOutput, type RuntestReport } from "./runtest-output.js";

/** The tags the acceptance run leaves out: what needs DEBUG, replication, SAVE, resets or memory limits. */
export const RUNTEST_TAGS =
  "-needs:debug -needs:repl -needs:save -needs:reset -needs:config-maxmemory -needs:config-resetstat -needs:pfdebug";

export const SUITE_UNITS = [
  "unit/type/string",
  "unit/type/incr",
  "unit/keyspace",
  "unit/type/stream",
  "unit/type/stream-cgroups",
] as const;

/** The most bytes of runtest output kept in memory for one unit; the rest is dropped (the log file has all). */
export const OUTPUT_BYTES_MAX = 32 * 1024 * 1024;

export interface UnitRunOptions {
  suiteDir: string;
  unit: string;
  port: number;
  /** Names (or `/regexp`s) for runtest's --skipfile; none: no skip file. */
  skipNames: string[];
  /** Where the skip file and the output log go. */
  dir: string;
  unitTimeoutMs: number;
  /** runtest's own --timeout: seconds without any test progress before it gives up. */
  noProgressTimeoutS: number;
}

export interface UnitRun {
  unit: string;
  args: string[];
  report: RuntestReport;
  exitCode: number | null;
  /** Set when the harness killed runtest for overrunning unitTimeoutMs. */
  killedAfterMs: number | undefined;
  durationMs: number;
  logFile: string;
}

export function runtestArgs(options: UnitRunOptions, skipFile: string | undefined): string[] {
  // The test server listens on a port in [baseport - 32, baseport): a random base keeps runs
  // beside this one (another checkout, another target) from racing for the same port.
  const baseport = 22_000 + Math.floor(Math.random() * 10_000);
  const args = ["--host", "127.0.0.1", "--port", String(options.port), "--singledb", "--durable"];
  args.push("--ignore-encoding", "--ignore-digest", "--tags", RUNTEST_TAGS, "--single", options.unit);
  args.push("--clients", "1", "--baseport", String(baseport), "--timeout", String(options.noProgressTimeoutS));
  if (skipFile !== undefined) args.push("--skipfile", skipFile);
  return args;
}

export async function runUnit(options: UnitRunOptions): Promise<UnitRun> {
  const slug = options.unit.replaceAll("/", "-");
  let skipFile: string | undefined;
  if (options.skipNames.length > 0) {
    skipFile = join(options.dir, `${slug}.skip`);
    writeFileSync(skipFile, options.skipNames.map((name) => `${name}\n`).join(""));
  }
  const args = runtestArgs(options, skipFile);
  const logFile = join(options.dir, `${slug}.runtest.log`);
  const started = Date.now();
  const { output, exitCode, killedAfterMs } = await runGroup(options.suiteDir, args, options.unitTimeoutMs);
  writeFileSync(logFile, output);
  return {
    unit: options.unit,
    args,
    report: parseRuntestOutput(output),
    exitCode,
    killedAfterMs,
    durationMs: Date.now() - started,
    logFile,
  };
}

function runGroup(
  cwd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ output: string; exitCode: number | null; killedAfterMs: number | undefined }> {
  // TERM=dumb: runtest colours its status words only on an xterm.
  const child = spawn("./runtest", args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TERM: "dumb" },
  });
  const group = child.pid === undefined ? undefined : -child.pid;
  if (group !== undefined) track(group);
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer) => {
    if (kept + chunk.length > OUTPUT_BYTES_MAX) return;
    chunks.push(chunk);
    kept += chunk.length;
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let killedAfterMs: number | undefined;
  const started = Date.now();
  const timer = setTimeout(() => {
    killedAfterMs = Date.now() - started;
    if (group !== undefined) killNow(group);
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once("error", (error) => keep(Buffer.from(`\n[harness] could not run ./runtest: ${error.message}\n`)));
    child.once("close", (code) => {
      clearTimeout(timer);
      // The Tcl test client may outlive runtest for a moment: the group goes with it.
      if (group !== undefined) {
        killNow(group);
        untrack(group);
      }
      resolve({ output: Buffer.concat(chunks).toString("latin1"), exitCode: code, killedAfterMs });
    });
  });
}
