/**
 * `logbook store get|put|delete|scan|checkpoint|inspect DIR`: parsing and printing only.
 * Values are JSON on the command line and in the output (the store's default encoding, and
 * what the server stores).
 *
 * Keys are named as a server's clients name them: get, put, delete and scan work inside one
 * tenant's range, `k/<tenant>/` (src/server/namespace.ts), and print keys without it, so a key
 * PUT over HTTP is the key given here. `--raw` names the store's own keys instead, the
 * server's internal records (idempotency, `i/<tenant>/`) included.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { LogbookError } from "../errors.js";
import { dataPrefix, OPEN_TENANT, TENANT_ID } from "../server/index.js";
import type { ScanOptions } from "../store/index.js";
import { Store } from "../store/index.js";
import { formatBytes, printJson } from "./output.js";

export interface KeySpaceOptions {
  tenant: string;
  raw?: boolean;
}

/** The store key prefix that `--tenant`/`--raw` select: a tenant's data range, or none. */
export function keyPrefixOf(options: KeySpaceOptions): string {
  if (options.raw === true) return "";
  if (!TENANT_ID.test(options.tenant)) {
    throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `a tenant is 1-64 of A-Z a-z 0-9 _ . -, got ${options.tenant}`);
  }
  return dataPrefix(options.tenant);
}

export function addKeySpaceOptions(command: Command): Command {
  return command
    .addOption(new Option("--tenant <name>", "the server tenant whose keys these are").default(OPEN_TENANT))
    .addOption(new Option("--raw", "name the store's own keys (k/<tenant>/…, and internal i/<tenant>/… records)"));
}

interface ScanCommandOptions extends KeySpaceOptions {
  prefix?: string;
  gte?: string;
  lt?: string;
  limit?: string;
  reverse?: boolean;
  json?: boolean;
}

/** Scan bounds in store keys: the given ones inside the key space, which also bounds the range. */
function scanBoundsOf(options: ScanCommandOptions, keyPrefix: string): ScanOptions {
  const limit = parseVersion(options.limit);
  return {
    prefix: keyPrefix + (options.prefix ?? ""),
    ...(options.gte === undefined ? {} : { gte: keyPrefix + options.gte }),
    ...(options.lt === undefined ? {} : { lt: keyPrefix + options.lt }),
    ...(limit === undefined ? {} : { limit }),
    reverse: options.reverse === true,
  };
}

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
  registerStoreGet(store);
  registerStorePut(store);
  registerStoreDelete(store);
  registerStoreScan(store);
  registerStoreCheckpoint(store);
  registerStoreInspect(store);
}

function registerStoreGet(store: Command): void {
  const get = store
    .command("get")
    .description("print a key's value and version; exit 1 when it is absent")
    .argument("<dir>", "store directory")
    .argument("<key>", "key (UTF-8)")
    .option("--json", "print JSON");
  addKeySpaceOptions(get).action((dir: string, key: string, options: KeySpaceOptions & { json?: boolean }) =>
    withStore(dir, true, async (db) => {
      const entry = db.getSync(keyPrefixOf(options) + key);
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
}

function registerStorePut(store: Command): void {
  const put = store
    .command("put")
    .description("write a JSON value; prints the new version")
    .argument("<dir>", "store directory")
    .argument("<key>", "key (UTF-8)")
    .argument("<value>", "value as JSON")
    .option("--if-version <version>", "compare-and-set: the current version must be this (0: create only)")
    .option("--json", "print JSON");
  addKeySpaceOptions(put).action(
    (dir: string, key: string, value: string, options: KeySpaceOptions & { ifVersion?: string; json?: boolean }) =>
      withStore(dir, false, async (db) => {
        const ifVersion = parseVersion(options.ifVersion);
        const storeKey = keyPrefixOf(options) + key;
        const version = await db.put(storeKey, parseValue(value), ifVersion === undefined ? {} : { ifVersion });
        if (options.json) printJson({ key, version });
        else process.stdout.write(`${version}\n`);
      }),
  );
}

function registerStoreDelete(store: Command): void {
  const del = store
    .command("delete")
    .description("delete a key; prints the version of the write")
    .argument("<dir>", "store directory")
    .argument("<key>", "key (UTF-8)")
    .option("--if-version <version>", "the current version must be this")
    .option("--json", "print JSON");
  addKeySpaceOptions(del).action((dir: string, key: string, options: KeySpaceOptions & { ifVersion?: string; json?: boolean }) =>
    withStore(dir, false, async (db) => {
      const ifVersion = parseVersion(options.ifVersion);
      const storeKey = keyPrefixOf(options) + key;
      const version = await db.delete(storeKey, ifVersion === undefined ? {} : { ifVersion });
      if (options.json) printJson({ key, version });
      else process.stdout.write(`${version}\n`);
    }),
  );
}

function registerStoreScan(store: Command): void {
  const scan = store
    .command("scan")
    .description("print entries in key order: one line each, or JSON lines")
    .argument("<dir>", "store directory")
    .option("--prefix <prefix>")
    .option("--gte <key>")
    .option("--lt <key>")
    .option("--limit <count>")
    .option("--reverse")
    .option("--json", "one JSON object per line");
  addKeySpaceOptions(scan).action((dir: string, options: ScanCommandOptions) =>
    withStore(dir, true, async (db) => {
      const keyPrefix = keyPrefixOf(options);
      for await (const entry of db.scan(scanBoundsOf(options, keyPrefix))) {
        const key = String(entry.key).slice(keyPrefix.length);
        if (options.json) process.stdout.write(`${JSON.stringify({ ...entry, key })}\n`);
        else process.stdout.write(`${key}\t${JSON.stringify(entry.value)}\t${entry.version}\n`);
      }
    }),
  );
}

function registerStoreCheckpoint(store: Command): void {
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
}

function registerStoreInspect(store: Command): void {
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
