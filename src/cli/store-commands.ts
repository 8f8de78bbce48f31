/**
 * `logbook store get|put|delete|scan|checkpoint|inspect DIR`: parsing and printing only.
 * Values are JSON on the command line and in the output (the store's default encoding).
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { LogbookError } from "../errors.js";
import { Store } from "../store/store.js";
import { formatBytes, printJson } from "./output.js";

function parseVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const version = Number(text);
  if (!Number.isSafeInteger(version) || version < 0) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `not a version: ${text}`);
  return version;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `the value must be JSON (quote strings: '"text"'), got ${text}`);
  }
}

async function withStore<T>(dir: string, readOnly: boolean, action: (db: Store) => Promise<T>): Promise<T> {
  const db = await Store.open(resolve(dir), { readOnly });
  try {
    return await action(db);
  } finally {
    await db.close();
  }
}

export function registerStoreCommands(program: Command): void {
  const store = program.command("store").description("read and write a key-value store directory");
  store
    .command("get")
    .description("print a key's value and version; exit 1 when it is absent")
    .argument("<dir>", "store directory")
    .argument("<key>", "key (UTF-8)")
    .option("--json", "print JSON")
    .action((dir: string, key: string, options: { json?: boolean }) =>
      withStore(dir, true, async (db) => {
        const entry = db.getSync(key);
        if (entry === undefined) {
          if (options.json) printJson(null);
          else process.stderr.write(`logbook: no key ${JSON.stringify(key)}\n`);
          process.exitCode = 1;
          return;
        }
        if (options.json) printJson({ key, ...entry });
        else process.stdout.write(`${JSON.stringify(entry.value)}\t(version ${entry.version})\n`);
      }),
    );
  store
    .command("put")
    .description("write a JSON value; prints the new version")
    .argument("<dir>", "store directory")
    .argument("<key>", "key (UTF-8)")
    .argument("<value>", "value as JSON")
    .option("--if-version <version>", "compare-and-set: the current version must be this (0: create only)")
    .option("--json", "print JSON")
    .action((dir: string, key: string, value: string, options: { ifVersion?: string; json?: boolean }) =>
      withStore(dir, false, async (db) => {
        const ifVersion = parseVersion(options.ifVersion);
        const version = await db.put(key, parseValue(value), ifVersion === undefined ? {} : { ifVersion });
        if (options.json) printJson({ key, version });
        else process.stdout.write(`${version}\n`);
      }),
    );
  store
    .command("delete")
    .description("delete a key; prints the version of the write")
    .argument("<dir>", "store directory")
    .argument("<key>", "key (UTF-8)")
    .option("--if-version <version>", "the current version must be this")
    .option("--json", "print JSON")
    .action((dir: string, key: string, options: { ifVersion?: string; json?: boolean }) =>
      withStore(dir, false, async (db) => {
        const ifVersion = parseVersion(options.ifVersion);
        const version = await db.delete(key, ifVersion === undefined ? {} : { ifVersion });
        if (options.json) printJson({ key, version });
        else process.stdout.write(`${version}\n`);
      }),
    );
  store
    .command("scan")
    .description("print entries in key order: one line each, or JSON lines")
    .argument("<dir>", "store directory")
    .option("--prefix <prefix>")
    .option("--gte <key>")
    .option("--lt <key>")
    .option("--limit <count>")
    .option("--reverse")
    .option("--json", "one JSON object per line")
    .action(
      (dir: string, options: { prefix?: string; gte?: string; lt?: string; limit?: string; reverse?: boolean; json?: boolean }) =>
        withStore(dir, true, async (db) => {
          const limit = parseVersion(options.limit);
          for await (const entry of db.scan({
            ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
            ...(options.gte === undefined ? {} : { gte: options.gte }),
            ...(options.lt === undefined ? {} : { lt: options.lt }),
            ...(limit === undefined ? {} : { limit }),
            reverse: options.reverse === true,
          })) {
            if (options.json) process.stdout.write(`${JSON.stringify(entry)}\n`);
            else process.stdout.write(`${String(entry.key)}\t${JSON.stringify(entry.value)}\t${entry.version}\n`);
          }
        }),
    );
  store
    .command("checkpoint")
    .description("write a checkpoint now and free the log it makes unnecessary")
    .argument("<dir>", "store directory")
    .option("--json", "print JSON")
    .action((dir: string, options: { json?: boolean }) =>
      withStore(dir, false, async (db) => {
        const info = await db.checkpoint();
        if (options.json) printJson(info);
        else
          process.stdout.write(
            `checkpoint at LSN ${info?.lsn}: ${info?.entries} keys, ${formatBytes(info?.bytes ?? 0)} in ${info?.file}\n`,
          );
      }),
    );
  store
    .command("inspect")
    .description("checkpoints, LSNs, key count, log bytes since the last checkpoint")
    .argument("<dir>", "store directory")
    .option("--json", "print JSON")
    .action((dir: string, options: { json?: boolean }) =>
      withStore(dir, true, async (db) => {
        const stats = db.stats();
        const log = db.logStats;
        const logDir = join(db.directory, "log");
        let logBytesAfterCheckpoint = 0;
        for (const name of await readdir(logDir))
          if (/^\d{20}\.log$/.test(name)) logBytesAfterCheckpoint += (await stat(join(logDir, name))).size;
        const report = {
          directory: db.directory,
          keys: stats.keys,
          keyValueBytes: stats.keyValueBytes,
          lastLsn: log.lastLsn,
          checkpointLsn: db.checkpointLsn,
          recordsAfterCheckpoint: log.lastLsn - db.checkpointLsn,
          logFirstLsn: log.firstLsn,
          logSegments: log.segments,
          logBytesOnDisk: logBytesAfterCheckpoint,
          recovery: db.recovery,
        };
        if (options.json) return printJson(report);
        process.stdout.write(
          `store ${report.directory}\n${report.keys} keys (${formatBytes(report.keyValueBytes)} of keys and values), last LSN ${report.lastLsn}\n` +
            `checkpoint at LSN ${report.checkpointLsn}; ${report.recordsAfterCheckpoint} log records after it\n` +
            `log: LSNs from ${report.logFirstLsn}, ${report.logSegments} segment(s), ${formatBytes(report.logBytesOnDisk)} on disk\n` +
            `opening took ${report.recovery.durationMs.toFixed(1)} ms (${report.recovery.recordsReplayed} records replayed)\n`,
        );
      }),
    );
}
