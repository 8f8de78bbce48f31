/**
 * What the stream API (streams-api.ts) needs of its store: a narrow view, so that the API
 * sequences commands and waits for them the way every store write does, without reaching
 * into the store's private state.
 */
import type { LogbookError } from "../errors.js";
import type { Clock } from "../io/index.js";
import type { ApplyResult, StreamCommand, StreamSpace } from "../streams/index.js";
import type { Key } from "./encoding.js";
import type { StreamWaiters } from "./stream-waiters.js";

export interface StreamHost {
  readonly space: StreamSpace;
  readonly waiters: StreamWaiters;
  readonly clock: Clock;
  /** Bytes an entry's fields may take at most (the store's value ceiling). */
  readonly valueBytesMax: number;
  internalKey(key: Key): string;
  externalKey(internal: string): Key;
  /** Logs `command` on `key`; resolves what applying it decided, or rejects with the error it ended in. */
  run(key: string, command: StreamCommand): Promise<Exclude<ApplyResult, LogbookError>>;
  /** Logs the commands as one record (atomic, one LSN); resolves each one's result or error, in order. */
  runAll(ops: readonly { key: string; command: StreamCommand }[]): Promise<ApplyResult[]>;
  /** Whether a write to `key` is sequenced and not yet applied. */
  queued(key: string): boolean;
  holdsString(key: string): boolean;
  wrongType(key: string): LogbookError;
  /** Resolves once everything applied so far is durable (at once under sync "always"). */
  durable(): Promise<void>;
}
