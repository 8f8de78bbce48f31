/**
 * `logbook log inspect|dump|verify|repair DIR`: parsing and printing only; the work is the Log's.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { LogbookError } from "../errors.js";
import { NodeFileSystem } from "../io/index.js";
import type { RecoveryMode, RecoveryReport } from "../log/index.js";
import { Log } from "../log/index.js";
import { holdsCheckpoints } from "../store/index.js";
import { describePayload, formatBytes, printJson, printTable } from "./output.js";

/** Exit codes of `log verify`, documented in the README. */
export const VERIFY_EXIT = { clean: 0, corrupt: 1, tornTail: 3 } as const;

function parseLsn(value: string): number {
  const lsn = Number(value);
  if (!Number.isSafeInteger(lsn) || lsn < 0) throw new LogbookError("LOGBOOK_INVALID_LSN", `not an LSN: ${value}`);
  return lsn;
}

async function openReadOnly(directory: string, recovery: RecoveryMode = "tolerate-tail", verify: "full" | "tail" = "tail") {
  return Log.open(directory, { readOnly: true, create: false, recovery, verifyOnOpen: verify });
}

async function inspect(directory: string, options: { json?: boolean }): Promise<void> {
  await using log = await openReadOnly(directory);
  const segments = log.segments();
  const rows = await Promise.all(
    segments.map(async (segment, index) => {
      const next = segments[index + 1];
      const lastLsn = next === undefined ? log.lastLsn : next.firstLsn - 1;
      return { name: segment.name, firstLsn: segment.firstLsn, lastLsn, sizeBytes: (await stat(segment.path)).size };
    }),
  );
  const broken = (await readdir(log.directory)).filter((name) => name.endsWith(".broken"));
  const summary = {
    directory: log.directory,
    logId: log.id,
    firstLsn: log.firstLsn,
    lastLsn: log.lastLsn,
    records: log.lastLsn - log.firstLsn + 1,
    segments: rows,
    bytesOnDisk: rows.reduce((sum, row) => sum + row.sizeBytes, 0),
    keptAside: broken,
    tornTail: log.recovery.tornTail ?? null,
  };
  if (options.json) return printJson(summary);
  process.stdout.write(`log ${summary.logId} in ${summary.directory}\n`);
  process.stdout.write(
    `LSNs ${summary.firstLsn}..${summary.lastLsn} (${summary.records} records), ${rows.length} segments, ${formatBytes(summary.bytesOnDisk)} on disk\n\n`,
  );
  printTable(
    ["segment", "first LSN", "last LSN", "size"],
    rows.map((row) => [row.name, row.firstLsn, row.lastLsn, formatBytes(row.sizeBytes)]),
  );
  if (broken.length > 0) process.stdout.write(`\nkept aside by earlier repairs: ${broken.join(", ")}\n`);
  if (summary.tornTail) {
    process.stdout.write(`\ntorn tail at ${summary.tornTail.file}:${summary.tornTail.offset} (cut by the next writable open)\n`);
  }
}

async function dump(directory: string, options: { from?: string; limit?: string; json?: boolean }): Promise<void> {
  const from = options.from === undefined ? undefined : parseLsn(options.from);
  const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : parseLsn(options.limit);
  await using log = await openReadOnly(directory);
  let count = 0;
  for await (const record of log.read(from === undefined ? {} : { from })) {
    if (count++ >= limit) break;
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ lsn: record.lsn, bytes: record.payload.byteLength, payloadBase64: Buffer.from(record.payload).toString("base64") })}\n`,
      );
    } else {
      process.stdout.write(`${record.lsn}\t${record.payload.byteLength}\t${describePayload(record.payload)}\n`);
    }
  }
}

async function verify(directory: string, options: { json?: boolean }): Promise<number> {
  const startedMs = performance.now();
  let report: RecoveryReport;
  try {
    // A read-only open with full verification checks every record of every segment.
    await using log = await openReadOnly(directory, "tolerate-tail", "full");
    report = log.recovery;
  } catch (error) {
    if (!(error instanceof LogbookError) || error.code !== "LOGBOOK_CORRUPTION") throw error;
    const result = {
      ok: false,
      status: "corrupt",
      code: error.code,
      message: error.message,
      file: error.file,
      offset: error.offset,
    };
    if (options.json) printJson(result);
    else process.stdout.write(`CORRUPT: ${error.message}\n`);
    return VERIFY_EXIT.corrupt;
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const result = {
    ok: report.tornTail === undefined,
    status: report.tornTail === undefined ? "clean" : "torn-tail",
    records: report.lastLsn - report.firstLsn + 1,
    segments: report.segments,
    scannedBytes: report.scannedBytes,
    seconds,
    megabytesPerSecond: report.scannedBytes / 1e6 / Math.max(seconds, 1e-9),
    tornTail: report.tornTail ?? null,
  };
  if (options.json) printJson(result);
  else if (report.tornTail) {
    process.stdout.write(
      `TORN TAIL: ${report.tornTail.reason} at ${report.tornTail.file}:${report.tornTail.offset}; the records before it check (run 'logbook log repair')\n`,
    );
  } else {
    process.stdout.write(
      `OK: ${result.records} records in ${result.segments} segments check (${formatBytes(result.scannedBytes)} in ${seconds.toFixed(3)} s)\n`,
    );
  }
  return report.tornTail === undefined ? VERIFY_EXIT.clean : VERIFY_EXIT.tornTail;
}

/**
 * Refuses a store's log (its parent holds a manifest or checkpoints): a repair of the log alone
 * cuts at the first damage, which may lie in records the store's checkpoints hold, and a log that
 * ends before its store's newest checkpoint makes the store unopenable for good.
 */
async function refuseStoreLog(directory: string): Promise<void> {
  const parent = dirname(directory);
  if (!(await holdsCheckpoints(new NodeFileSystem(), parent).catch(() => false))) return;
  throw new LogbookError(
    "LOGBOOK_INVALID_ARGUMENT",
    `${directory} is the log of the store in ${parent} (it has checkpoints): repairing the log alone could end it ` +
      `before the store's newest checkpoint, and the store would no longer open. Nothing was changed. ` +
      `Open the store instead ('logbook store inspect ${parent}'): it passes over a flipped bit in records its newest ` +
      "checkpoint holds; damage in records after it needs a backup or a replica",
    { file: directory },
  );
}

async function repair(directory: string, options: { yes?: boolean; mode: string; json?: boolean }): Promise<void> {
  const mode = options.mode as RecoveryMode;
  if (mode !== "tolerate-tail" && mode !== "point-in-time") {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `--mode must be tolerate-tail or point-in-time, got ${options.mode}`);
  }
  // The dry run refuses too: it says what --yes would do.
  await refuseStoreLog(directory);
  const report = await (async () => {
    if (!options.yes) {
      await using log = await openReadOnly(directory, mode, "full");
      return log.recovery;
    }
    await using log = await Log.open(directory, { create: false, recovery: mode, verifyOnOpen: "full" });
    return log.recovery;
  })();
  const changes = {
    dryRun: !options.yes,
    tornTail: report.tornTail ?? null,
    lostRange: report.lostRange ?? null,
    setAside: report.setAside,
    lastLsn: report.lastLsn,
  };
  if (options.json) return printJson(changes);
  const nothing = !changes.tornTail && !changes.lostRange && changes.setAside.length === 0;
  const verb = options.yes ? "cut" : "would cut";
  if (nothing) process.stdout.write(`nothing to repair: the log is clean up to LSN ${report.lastLsn}\n`);
  if (changes.tornTail) {
    process.stdout.write(
      `${verb} a torn tail: ${changes.tornTail.reason} at ${changes.tornTail.file}:${changes.tornTail.offset}` +
        `${changes.tornTail.keptAs ? ` (original bytes kept in ${changes.tornTail.keptAs})` : ""}\n`,
    );
  }
  if (changes.lostRange) {
    process.stdout.write(
      `${verb} everything from LSN ${changes.lostRange.fromLsn}: ${changes.lostRange.reason} at ${changes.lostRange.file}:${changes.lostRange.offset}\n`,
    );
  }
  for (const file of changes.setAside) process.stdout.write(`set aside ${file}\n`);
  if (!options.yes && !nothing) process.stdout.write("dry run: nothing was changed; run again with --yes to repair\n");
}

export function registerLogCommands(program: Command): void {
  const log = program.command("log").description("inspect, dump, verify and repair a write-ahead log directory");
  log
    .command("inspect")
    .description("segments, LSN ranges, sizes and the log's id")
    .argument("<dir>", "log directory")
    .option("--json", "print JSON")
    .action((dir: string, options) => inspect(resolve(dir), options));
  log
    .command("dump")
    .description("print records in LSN order")
    .argument("<dir>", "log directory")
    .option("--from <lsn>", "first LSN to print")
    .option("--limit <count>", "print at most this many records")
    .option("--json", "one JSON object per line, payload in base64")
    .action((dir: string, options) => dump(resolve(dir), options));
  log
    .command("verify")
    .description("check every record; exit 0 when all check, 1 on corruption, 3 on a torn tail")
    .argument("<dir>", "log directory")
    .option("--json", "print JSON")
    .action(async (dir: string, options) => {
      process.exitCode = await verify(resolve(dir), options);
    });
  log
    .command("repair")
    .description(
      "cut a torn tail (or, with --mode point-in-time, everything after the first damage); a dry run unless --yes; refuses a store's log",
    )
    .argument("<dir>", "log directory (not a store's log/: open the store instead)")
    .option("--yes", "really repair (originals are kept aside as *.broken)")
    .option("--mode <mode>", "tolerate-tail or point-in-time", "tolerate-tail")
    .option("--json", "print JSON")
    .action((dir: string, options) => repair(resolve(dir), options));
}
