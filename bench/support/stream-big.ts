/**
 * bench:streams' fourth part: one stream far larger than its index, in processes of their own
 * so that each one's RSS is that of a store holding the stream. The first process fills it
 * (sync "none", the default automatic checkpoints), checkpoints, then adds `extra` entries and
 * times the checkpoint that follows, a few times over; it first does the same on a stream of only `extra`
 * entries, the baseline: a checkpoint's cost should follow what changed since the last one,
 * not what the stream holds. It then collects garbage and reports its RSS and the index bytes
 * per entry. The second process reopens the store (the recovery time) and reports the same.
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/index.js";
import { median } from "./median.js";
import { collectGarbage, fillStream, STREAM_KEY, streamDataBytes } from "./stream-load.js";

export interface CheckpointCost {
  /** Entries the stream held before the `extra` ones. */
  entriesBefore: number;
  /** The checkpoint taken right after the fill. */
  firstSeconds: number;
  /** The checkpoint taken after `extra` more entries (the median of CHECKPOINT_REPEATS). */
  seconds: number;
  /** Bytes of that checkpoint's own files (key-value data file and streams file). */
  fileBytes: number;
  /** Stream data written since the first checkpoint, which this one made durable. */
  newDataBytes: number;
}

export interface BigFill {
  entries: number;
  /** Entries added before each timed checkpoint, and how many times. */
  checkpointEntries: number;
  checkpointRepeats: number;
  dataBytes: number;
  fillSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  indexBytes: number;
  small: CheckpointCost;
  big: CheckpointCost;
}

export interface BigOpen {
  entries: number;
  openSeconds: number;
  recordsReplayed: number;
  rssBytes: number;
  indexBytes: number;
}

export type BigFigures = BigFill & { reopen: BigOpen };

/** Times of the checkpoint after `extra` entries taken per stream; the median is reported (the first one runs colder). */
const CHECKPOINT_REPEATS = 3;

/** Checkpoints the store at `dir`, then CHECKPOINT_REPEATS times adds `extra` entries and times the checkpoint after them. */
async function checkpointAfterAdds(db: Store, dir: string, extra: number): Promise<CheckpointCost> {
  const entriesBefore = db.streams.length(STREAM_KEY);
  let started = performance.now();
  await db.checkpoint();
  const firstSeconds = (performance.now() - started) / 1000;
  const times: number[] = [];
  let fileBytes = 0;
  let newDataBytes = 0;
  for (let i = 0; i < CHECKPOINT_REPEATS; i++) {
    const dataBefore = streamDataBytes(dir);
    await fillStream(db, extra);
    started = performance.now();
    const info = await db.checkpoint();
    times.push((performance.now() - started) / 1000);
    if (info === undefined) throw new Error("the checkpoint wrote nothing");
    fileBytes = info.bytes + (info.streams === undefined ? 0 : statSync(join(dir, info.streams)).size);
    newDataBytes = streamDataBytes(dir) - dataBefore;
  }
  return { entriesBefore, firstSeconds, seconds: median(times), fileBytes, newDataBytes };
}

/** The first process: the baseline checkpoint on a small stream, then the big stream and its checkpoints. */
export async function runBigFill(dir: string, entries: number, extra: number): Promise<BigFill> {
  const smallDir = `${dir}-small`;
  rmSync(smallDir, { recursive: true, force: true });
  const smallDb = await Store.open(smallDir, { sync: "none", valueEncoding: "utf8" });
  await fillStream(smallDb, extra);
  const small = await checkpointAfterAdds(smallDb, smallDir, extra);
  await smallDb.close();
  rmSync(smallDir, { recursive: true, force: true });

  const db = await Store.open(dir, { sync: "none", valueEncoding: "utf8" });
  const fillSeconds = await fillStream(db, entries);
  const big = await checkpointAfterAdds(db, dir, extra);
  collectGarbage();
  const memory = process.memoryUsage();
  const figures = {
    entries: db.streams.length(STREAM_KEY),
    checkpointEntries: extra,
    checkpointRepeats: CHECKPOINT_REPEATS,
    dataBytes: streamDataBytes(dir),
    fillSeconds,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    indexBytes: db.stats().streamIndexBytes,
    small,
    big,
  };
  await db.close();
  return figures;
}

/** The second process: the store reopened (recovery), then its RSS and index. */
export async function runBigOpen(dir: string): Promise<BigOpen> {
  const started = performance.now();
  const db = await Store.open(dir, { valueEncoding: "utf8" });
  const openSeconds = (performance.now() - started) / 1000;
  collectGarbage();
  const figures = {
    entries: db.streams.length(STREAM_KEY),
    openSeconds,
    recordsReplayed: db.recovery.recordsReplayed,
    rssBytes: process.memoryUsage().rss,
    indexBytes: db.stats().streamIndexBytes,
  };
  await db.close();
  return figures;
}

/** Runs `self --part NAME,DIR,...` in a child with this process's flags (--expose-gc, the tsx loader); its JSON line. */
function runPart<T>(self: string, part: string): T {
  const child = spawnSync(process.execPath, [...process.execArgv, self, "--part", part], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = child.stdout.split("\n").find((l) => l.startsWith("{"));
  if (child.status !== 0 || line === undefined) throw new Error(`bench:streams part ${part} failed (status ${child.status})`);
  return JSON.parse(line) as T;
}

export function measureBigStream(self: string, root: string, entries: number, extra: number): BigFigures {
  const dir = join(root, "big");
  try {
    const fill = runPart<BigFill>(self, `big-fill,${dir},${entries},${extra}`);
    const reopen = runPart<BigOpen>(self, `big-open,${dir}`);
    return { ...fill, reopen };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
