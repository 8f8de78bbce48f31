/**
 * The store's keys in their internal binary form (one char per byte), for front ends that
 * speak bytes (the Redis protocol): strings read and written without the store's encodings,
 * the latest sequenced state for atomic read-modify-write, and ranges for KEYS/SCAN/FLUSHDB.
 */
import { LogbookError } from "../errors.js";
import type { StreamSpace } from "../streams/index.js";
import { wrongType } from "../streams/index.js";
import type { Operation } from "./operation.js";
import type { QueuedValue, SequencedWrites } from "./sequenced-writes.js";
import { type SortedState, storedValue, storedVersion } from "./state.js";

export interface KeyspaceEntry {
  value: string;
  version: number;
  /** Ms since the epoch; 0: no expiry. */
  expiresAt: number;
}

export type KeyspaceOp =
  | { type: "put"; key: string; value: string; expiresAt?: number }
  | { type: "delete"; key: string }
  | { type: "expire"; key: string; expiresAt: number }
  | { type: "deleteRange"; gte: string; lt: string };

export interface KeyspaceWriteOptions {
  ifVersions?: Iterable<[string, number]>;
}

export interface KeyspaceHost {
  state: () => SortedState;
  sequenced: SequencedWrites;
  streams: StreamSpace;
  versionOf: (key: string) => number;
  write: (operations: Operation[], conditions: [string, number][]) => Promise<number>;
}

export class Keyspace {
  constructor(private readonly host: KeyspaceHost) {}

  get(key: string): KeyspaceEntry | undefined {
    const stored = this.host.state().get(key);
    if (stored === undefined) {
      if (this.host.streams.get(key) !== undefined) throw wrongType(key);
      return undefined;
    }
    return { value: storedValue(stored), version: storedVersion(stored), expiresAt: 0 };
  }

  latest(key: string): KeyspaceEntry | undefined {
    const queued = this.host.sequenced.newestOf(key);
    if (queued === undefined) return this.get(key);
    const value: QueuedValue = queued.value;
    if (value === undefined) return undefined;
    if (typeof value === "object") throw wrongType(key);
    return { value, version: queued.lsn, expiresAt: 0 };
  }

  kindOf(key: string, view: "applied" | "latest" = "applied"): "string" | "stream" | undefined {
    if (view === "latest") {
      const queued = this.host.sequenced.newestOf(key);
      if (queued !== undefined)
        return queued.value === undefined ? undefined : typeof queued.value === "object" ? "stream" : "string";
    }
    if (this.host.state().get(key) !== undefined) return "string";
    return this.host.streams.get(key) === undefined ? undefined : "stream";
  }

  write(ops: readonly KeyspaceOp[], options: KeyspaceWriteOptions = {}): Promise<number> {
    const operations: Operation[] = [];
    for (const op of ops) {
      if (op.type === "put") operations.push({ type: "put", key: op.key, value: op.value });
      else if (op.type === "delete") operations.push({ type: "delete", key: op.key });
      else if (op.type === "deleteRange") {
        for (const { key } of this.scan({ gte: op.gte, lt: op.lt })) operations.push({ type: "delete", key });
      } else throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "expire is not supported yet");
    }
    if (operations.length === 0) return Promise.resolve(0);
    return this.host.write(operations, [...(options.ifVersions ?? [])]);
  }

  versionOf(key: string): number {
    return this.host.versionOf(key);
  }

  *scan(options: { gte: string; lt: string }): Iterable<{ key: string; kind: "string" | "stream" }> {
    const found: { key: string; kind: "string" | "stream" }[] = [];
    for (const [key] of this.host.state().snapshot().entries(options.gte, false)) {
      if (key >= options.lt) break;
      found.push({ key, kind: "string" });
    }
    for (const key of this.host.streams.keys()) if (key >= options.gte && key < options.lt) found.push({ key, kind: "stream" });
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  count(gte: string, lt: string): number {
    let count = 0;
    for (const _ of this.scan({ gte, lt })) count++;
    return count;
  }

  randomKey(gte: string, lt: string): string | undefined {
    const keys = [...this.scan({ gte, lt })];
    return keys.length === 0 ? undefined : keys[Math.floor(Math.random() * keys.length)]?.key;
  }
}
