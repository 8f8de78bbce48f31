/**
 * The systems bench:store compares, behind one small driver each, with the durable setting of
 * each (see bench/store.ts), and the keys and values they all write.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/index.js";

export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;
export const GET_KEYS = 100_000;
export const SYSTEMS = ["logbook", "lmdb", "classic-level", "better-sqlite3"] as const;
export type System = (typeof SYSTEMS)[number];

export function keyFor(i: number): string {
  return `key-${String(i).padStart(KEY_BYTES - 4, "0")}`;
}
export const VALUE = "v".repeat(VALUE_BYTES);

export interface Driver {
  put(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown> | unknown;
  close(): Promise<void>;
  /** Records per fsync, where the system can tell. */
  recordsPerFsync?(): number;
}

export async function openDriver(system: System, dir: string): Promise<Driver> {
  if (system === "logbook") {
    const db = await Store.open(dir, { valueEncoding: "utf8", checkpointEveryBytes: 0 });
    return {
      put: (k, v) => db.put(k, v),
      get: (k) => db.getSync(k),
      close: () => db.close(),
      recordsPerFsync: () => db.logStats.records / Math.max(1, db.logStats.fsyncs),
    };
  }
  if (system === "lmdb") {
    const { open } = await import("lmdb");
    const db = open({ path: dir, overlappingSync: false });
    return { put: (k, v) => db.put(k, v), get: (k) => db.get(k), close: () => db.close() };
  }
  if (system === "classic-level") {
    const { ClassicLevel } = await import("classic-level");
    const db = new ClassicLevel<string, string>(dir);
    await db.open();
    return { put: (k, v) => db.put(k, v, { sync: true }), get: (k) => db.get(k), close: () => db.close() };
  }
  const { default: Database } = await import("better-sqlite3");
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, "db.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID");
  const put = db.prepare("INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
  const get = db.prepare("SELECT v FROM kv WHERE k = ?");
  return {
    put: async (k, v) => put.run(k, v),
    get: (k) => (get.get(k) as { v: string } | undefined)?.v,
    close: async () => {
      db.close();
    },
  };
}
