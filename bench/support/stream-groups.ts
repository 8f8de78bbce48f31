/**
 * bench:streams' second part: a consumer group drained by CONSUMERS concurrent consumers, each
 * looping readGroup(count = READ_COUNT) and an ack of what it got until the group has delivered
 * every entry, on a durable store (sync "always": each group read and each ack is a logged
 * command). The baseline is a plain `read` (XREAD) of the same entries, READ_COUNT at a time,
 * measured before and after the group pass (their mean), so the machine's drift falls on both.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/index.js";
import { fillStream, STREAM_KEY } from "./stream-load.js";

export const CONSUMERS = 4;
export const READ_COUNT = 100;
const GROUP = "bench-group";

export interface GroupFigures {
  entries: number;
  fillSeconds: number;
  groupSeconds: number;
  groupEntriesPerSecond: number;
  /** The mean of the plain reads before and after the group pass. */
  readEntriesPerSecond: number;
  ratio: number;
}

/** One consumer: group reads and acks until a read delivers nothing; resolves the entries it got. */
async function consume(db: Store, consumer: string): Promise<number> {
  let got = 0;
  for (;;) {
    const read = await db.streams.readGroup(GROUP, consumer, [[STREAM_KEY, ">"]], { count: READ_COUNT });
    const entries = read?.[0]?.entries ?? [];
    if (entries.length === 0) return got;
    got += entries.length;
    await db.streams.ack(
      STREAM_KEY,
      GROUP,
      entries.map((e) => e.id),
    );
  }
}

/** Every entry by plain reads, READ_COUNT at a time; resolves entries/s. */
async function readAll(db: Store, entries: number): Promise<number> {
  const started = performance.now();
  let after = "0-0";
  let got = 0;
  for (;;) {
    const read = await db.streams.read([[STREAM_KEY, after]], { count: READ_COUNT });
    const list = read?.[0]?.entries ?? [];
    if (list.length === 0) break;
    got += list.length;
    after = (list[list.length - 1] as { id: string }).id;
  }
  if (got !== entries) throw new Error(`the plain read got ${got} of ${entries} entries`);
  return got / ((performance.now() - started) / 1000);
}

export async function measureGroupReads(root: string, entries: number): Promise<GroupFigures> {
  const dir = join(root, "groups");
  rmSync(dir, { recursive: true, force: true });
  const db = await Store.open(dir, { sync: "always", valueEncoding: "utf8" });
  try {
    const fillSeconds = await fillStream(db, entries);
    await db.streams.createGroup(STREAM_KEY, GROUP, { start: "0" });
    const before = await readAll(db, entries);
    const started = performance.now();
    const counts = await Promise.all(Array.from({ length: CONSUMERS }, (_, i) => consume(db, `consumer-${i}`)));
    const groupSeconds = (performance.now() - started) / 1000;
    const delivered = counts.reduce((a, b) => a + b, 0);
    if (delivered !== entries) throw new Error(`the group delivered ${delivered} of ${entries} entries`);
    if (db.streams.pending(STREAM_KEY, GROUP).count !== 0) throw new Error("entries are still pending after the acks");
    const after = await readAll(db, entries);
    const readEntriesPerSecond = (before + after) / 2;
    const groupEntriesPerSecond = entries / groupSeconds;
    return {
      entries,
      fillSeconds,
      groupSeconds,
      groupEntriesPerSecond,
      readEntriesPerSecond,
      ratio: groupEntriesPerSecond / readEntriesPerSecond,
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
