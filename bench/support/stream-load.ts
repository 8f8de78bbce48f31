/**
 * What bench:streams' parts share: the entry every add writes (one field with a 100-byte value),
 * the fast fill of a stream, closed-loop writers, and the bytes of a store's stream data files.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../../src/index.js";

export const STREAM_KEY = "bench-stream";
export const FIELD_VALUE_BYTES = 100;
/** One field, `f`, with a 100-byte value: the entry of every add in this bench. */
export const ENTRY_FIELDS: [string, string][] = [["f", "v".repeat(FIELD_VALUE_BYTES)]];
/** Adds in flight while filling: enough that every commit of the log carries a large group. */
export const FILL_ADDS_IN_FLIGHT = 2000;
/** The directory of a store's stream data files (recovery.ts's STREAMS_DIRECTORY). */
export const STREAMS_DIRECTORY = "streams";

/** Adds `entries` entries to the stream, FILL_ADDS_IN_FLIGHT at a time; resolves the seconds it took. */
export async function fillStream(db: Store, entries: number, key = STREAM_KEY): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < entries; ) {
    const batch: Promise<unknown>[] = [];
    const end = Math.min(entries, done + FILL_ADDS_IN_FLIGHT);
    for (; done < end; done++) batch.push(db.streams.add(key, ENTRY_FIELDS));
    await Promise.all(batch);
  }
  return (performance.now() - started) / 1000;
}

/**
 * `concurrency` closed-loop writers each awaiting `write` until `deadline` (performance.now()
 * ms): a deadline rather than a timer, so that a timer's lateness does not end a figure.
 * Resolves how many writes completed.
 */
export async function writeUntil(concurrency: number, deadline: number, write: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await write(next++);
        done++;
      }
    }),
  );
  return done;
}

/** Bytes of the stream data files of the store in `directory`. */
export function streamDataBytes(directory: string): number {
  return dataFiles(directory).reduce((sum, file) => sum + statSync(file).size, 0);
}

/** The stream data files of the store in `directory`, in position order (their names sort so). */
export function dataFiles(directory: string): string[] {
  const dir = join(directory, STREAMS_DIRECTORY);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^data-\d+\.seg$/.test(n))
    .sort((a, b) => Number(a.slice(5, -4)) - Number(b.slice(5, -4)))
    .map((n) => join(dir, n));
}

/** Collects garbage when node runs with --expose-gc (the bench's script does). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
