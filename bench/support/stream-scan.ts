/**
 * bench:streams' third part: reading a stream from its first entry to its last with
 * `store.streams.entries(key)`, against the disk's (or page cache's) ceiling for the same
 * bytes: a plain sequential loop of synchronous `fs.read`s of READ_BUFFER_BYTES over the same
 * data files, run before and after the scan (their mean). The stream is filled fast (sync
 * "none", many adds in flight) and the store reopened, so the scan reads the data files, not
 * the write-behind buffer; the fill is reported apart.
 */
import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/index.js";
import { collectGarbage, dataFiles, fillStream, STREAM_KEY, streamDataBytes } from "./stream-load.js";

const READ_BUFFER_BYTES = 1024 * 1024;

export interface ScanFigures {
  entries: number;
  dataBytes: number;
  fillSeconds: number;
  fillEntriesPerSecond: number;
  scanSeconds: number;
  scanEntriesPerSecond: number;
  scanMegabytesPerSecond: number;
  /** The same bytes by plain sequential reads, as entries/s (the mean of the two loops). */
  ceilingEntriesPerSecond: number;
  ceilingMegabytesPerSecond: number;
  ratio: number;
}

/** Reads every data file of the store at `dir` front to back; resolves the seconds it took. */
function readFilesSequentially(dir: string): number {
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const started = performance.now();
  for (const file of dataFiles(dir)) {
    const fd = openSync(file, "r");
    try {
      while (readSync(fd, buffer, 0, READ_BUFFER_BYTES, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
  return (performance.now() - started) / 1000;
}

export async function measureScan(root: string, entries: number): Promise<ScanFigures> {
  const dir = join(root, "scan");
  rmSync(dir, { recursive: true, force: true });
  let fillSeconds: number;
  {
    const db = await Store.open(dir, { sync: "none", valueEncoding: "utf8" });
    fillSeconds = await fillStream(db, entries);
    await db.checkpoint();
    await db.close();
  }
  collectGarbage();
  const db = await Store.open(dir, { valueEncoding: "utf8" });
  try {
    const dataBytes = streamDataBytes(dir);
    const ceilingBefore = readFilesSequentially(dir);
    const started = performance.now();
    let read = 0;
    for await (const _ of db.streams.entries(STREAM_KEY)) read++;
    const scanSeconds = (performance.now() - started) / 1000;
    const ceilingSeconds = (ceilingBefore + readFilesSequentially(dir)) / 2;
    if (read !== entries) throw new Error(`the scan read ${read} of ${entries} entries`);
    const scanEntriesPerSecond = entries / scanSeconds;
    const ceilingEntriesPerSecond = entries / ceilingSeconds;
    return {
      entries,
      dataBytes,
      fillSeconds,
      fillEntriesPerSecond: entries / fillSeconds,
      scanSeconds,
      scanEntriesPerSecond,
      scanMegabytesPerSecond: dataBytes / 1e6 / scanSeconds,
      ceilingEntriesPerSecond,
      ceilingMegabytesPerSecond: dataBytes / 1e6 / ceilingSeconds,
      ratio: scanEntriesPerSecond / ceilingEntriesPerSecond,
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
