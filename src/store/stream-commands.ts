/**
 * How the store logs stream commands and hands back what applying them decided: the commands
 * of one call go into one record (one LSN, atomic), queued with the store's other writes, each
 * with an object the store fills with its result when it applies it (store.ts, applyOne).
 */
import { LogbookError } from "../errors.js";
import type { Clock } from "../io/index.js";
import type { WriteAheadLog } from "../log/index.js";
import { type ApplyResult, encodeStreamCommand, type StreamCommand, type StreamSpace, wrongType } from "../streams/index.js";
import { internalToKey, type KeyEncoding, keyToInternal } from "./encoding.js";
import { StreamOperations } from "./operation.js";
import type { QueuedValue, SequencedWrites } from "./sequenced-writes.js";
import type { StreamHost } from "./stream-host.js";
import type { StreamWaiters } from "./stream-waiters.js";

/**
 * Entry bytes that may wait in memory to be written to the stream data files; past it an add
 * waits for the writes before it is logged (its entry is copied there when it is applied).
 */
export const STREAM_BUFFERED_BYTES_MAX = 64 * 1024 * 1024;

/** A stream command on its way through the log: the store sets its result when it applies it. */
export interface PendingStreamCommand {
  command: StreamCommand;
  result: ApplyResult | undefined;
}

/** What of its store the stream API is given. */
export interface StreamCommandParts {
  log: WriteAheadLog;
  sequenced: SequencedWrites;
  space: StreamSpace;
  waiters: StreamWaiters;
  clock: Clock;
  valueBytesMax: number;
  keyBytesMax: number;
  keyEncoding: KeyEncoding;
  /** Whether a key holds a string, to a read: one past its expiry time does not. */
  holdsString(key: string): boolean;
  /** Logs the deletes of keys holding a string past its expiry time (a command on them finds nothing there). */
  deleteExpired(keys: readonly string[]): void;
  appliedLsn(): number;
  isClosed(): boolean;
  /** Queues the last write of a record with its writer's promise, resolved once it is applied. */
  queueWrite(key: string, value: QueuedValue, lsn: number): Promise<number>;
}

/** Logs stream commands as one record; resolves each one's result (an error as a value) once applied. */
function runStreamCommands(
  parts: StreamCommandParts,
  ops: readonly { key: string; command: StreamCommand }[],
): Promise<ApplyResult[]> {
  let lsn: number;
  const pending: PendingStreamCommand[] = ops.map((op) => ({ command: op.command, result: undefined }));
  try {
    if (parts.isClosed()) throw new LogbookError("LOGBOOK_CLOSED", "the store is closed");
    parts.deleteExpired(ops.map((op) => op.key));
    lsn = parts.log.sequence(new StreamOperations(ops.map((op) => ({ key: op.key, body: encodeStreamCommand(op.command) }))));
  } catch (error) {
    return Promise.reject(error);
  }
  const last = ops.length - 1;
  for (let i = 0; i < last; i++) parts.sequenced.add((ops[i] as { key: string }).key, pending[i], lsn);
  return parts
    .queueWrite((ops[last] as { key: string }).key, pending[last], lsn)
    .then(() => pending.map((p) => p.result as ApplyResult));
}

/** One command in a record of its own: its result, or a rejection with the error it ended in. */
function runOne(parts: StreamCommandParts, key: string, command: StreamCommand): Promise<Exclude<ApplyResult, LogbookError>> {
  let lsn: number;
  const pending: PendingStreamCommand = { command, result: undefined };
  try {
    if (parts.isClosed()) throw new LogbookError("LOGBOOK_CLOSED", "the store is closed");
    parts.deleteExpired([key]);
    lsn = parts.log.sequence(new StreamOperations([{ key, body: encodeStreamCommand(command) }]));
  } catch (error) {
    return Promise.reject(error);
  }
  return parts.queueWrite(key, pending, lsn).then(() => {
    const result = pending.result;
    if (result instanceof LogbookError) throw result;
    return result as Exclude<ApplyResult, LogbookError>;
  });
}

export function createStreamHost(parts: StreamCommandParts): StreamHost {
  const { log, sequenced } = parts;
  return {
    space: parts.space,
    waiters: parts.waiters,
    clock: parts.clock,
    valueBytesMax: parts.valueBytesMax,
    internalKey: (key) => keyToInternal(key, parts.keyBytesMax),
    externalKey: (internal) => internalToKey(internal, parts.keyEncoding),
    run: (key, command) => {
      if (command.kind === "add" && parts.space.bufferedBytes > STREAM_BUFFERED_BYTES_MAX) {
        return parts.space.bufferedAtMost(STREAM_BUFFERED_BYTES_MAX).then(() => runOne(parts, key, command));
      }
      return runOne(parts, key, command);
    },
    runAll: (ops) => runStreamCommands(parts, ops),
    queued: (key) => sequenced.size > 0 && sequenced.latestLsnOf(key) !== undefined,
    holdsString: parts.holdsString,
    wrongType: (key) => wrongType(internalToKey(key, parts.keyEncoding) as string),
    durable: () => {
      const applied = parts.appliedLsn();
      return applied > log.durableLsn ? log.waitFor(applied, "durable") : Promise.resolve();
    },
  };
}
