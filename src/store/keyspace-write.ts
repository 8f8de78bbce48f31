/**
 * How a keyspace write (keyspace.ts; Store.put with an expiry, Store.expire, the expiry
 * sweeper) becomes one log record: each operation is decided against the newest state of its
 * key (every write sequenced before it, and the operations before it in the same write), the
 * record is sequenced in the same synchronous step, and what each operation does to its key is
 * queued for the store to apply (queued-effects.ts). Replay (recovery.ts) decides the same from
 * the record alone, without the clock: so an expire that finds its key already past its expiry
 * time (or is given a time already past) is logged as the delete it amounts to.
 */

import type { WriteAheadLog } from "../log/index.js";
import { wrongType } from "../streams/index.js";
import type { Conditions } from "./conditions.js";
import type { Key } from "./encoding.js";
import { HOLDS_STREAM, type KeyspaceState } from "./keyspace-state.js";
import { encodeOperations, type Operation } from "./operation.js";
import { NO_CHANGE, RangeDelete, StoredWrite } from "./queued-effects.js";
import type { QueuedValue, SequencedWrites } from "./sequenced-writes.js";
import { toStoredExpiring } from "./state.js";

/** An operation of a keyspace write, on internal keys (binary strings); `expiresAt` in ms since the epoch, 0: none. */
export type KeyspaceOp =
  | { type: "put"; key: string; value: string; expiresAt?: number }
  | { type: "delete"; key: string }
  | { type: "expire"; key: string; expiresAt: number }
  | { type: "deleteRange"; gte: string; lt: string };

/** A condition on an internal key: its version must be this; with the key to name in a conflict. */
export type InternalCondition = readonly [internal: string, version: number, key: Key];

/** What the writer needs of its store. */
export interface KeyspaceWriterParts {
  log: WriteAheadLog;
  sequenced: SequencedWrites;
  conditions: Conditions;
  view: KeyspaceState;
  wallMs(): number;
  /** Queues the last write of a record with its writer's promise, resolved once it is applied. */
  queueWrite(key: string, value: QueuedValue, lsn: number): Promise<number>;
}

/** A string's value and expiry time as a write sees it. */
type Held = { value: string; expiresAt: number } | typeof HOLDS_STREAM | undefined;

/** An operation as decided: what is logged, and how its effect is built once the LSN is known. */
interface Decided {
  logged: Operation;
  /** plain: a put's value; stamp: a StoredWrite of `value` and `expiresAt`; the others as named. */
  effect: "plain" | "stamp" | "delete" | "none" | "range";
  value: string;
  expiresAt: number;
}

/** The keys the operations before one in the same write have changed: they decide over the newest state. */
class WriteScope {
  private readonly written = new Map<string, Held>();
  private readonly ranges: RangeDelete[] = [];

  constructor(private readonly view: KeyspaceState) {}

  get(key: string): Held {
    if (this.written.has(key)) return this.written.get(key);
    for (const range of this.ranges) if (range.covers(key)) return undefined;
    return this.view.newest(key);
  }

  set(key: string, held: Held): void {
    this.written.set(key, held);
  }

  deleteRange(range: RangeDelete): void {
    this.ranges.push(range);
    for (const key of this.written.keys()) if (range.covers(key)) this.written.set(key, undefined);
  }
}

export class KeyspaceWriter {
  constructor(private readonly parts: KeyspaceWriterParts) {}

  /**
   * Logs `ops` (checked) as one record if `conditions` hold, in this synchronous step; resolves
   * with its LSN once it is applied. Rejects with LOGBOOK_WRONG_TYPE for an expire on a stream,
   * LOGBOOK_CONFLICT as Store.batch does, or the log's refusal.
   */
  write(ops: readonly KeyspaceOp[], conditions: readonly InternalCondition[]): Promise<number> {
    let decided: Decided[];
    let lsn: number;
    try {
      decided = this.decide(ops);
      const conflict = conditions.length === 0 ? undefined : this.parts.conditions.checkAllInternal(conditions);
      if (conflict !== undefined) return this.parts.conditions.conflictOnceApplied(conflict);
      lsn = this.parts.log.sequence([encodeOperations(decided.map((d) => d.logged))]);
    } catch (error) {
      return Promise.reject(error);
    }
    // One LSN for all: the writer is settled with the last.
    const last = decided.length - 1;
    for (let i = 0; i < last; i++) {
      const op = decided[i] as Decided;
      this.parts.sequenced.add(op.logged.key, effectOf(op, lsn), lsn);
    }
    const op = decided[last] as Decided;
    return this.parts.queueWrite(op.logged.key, effectOf(op, lsn), lsn);
  }

  private decide(ops: readonly KeyspaceOp[]): Decided[] {
    const nowMs = this.parts.wallMs();
    const scope = new WriteScope(this.parts.view);
    return ops.map((op): Decided => {
      switch (op.type) {
        case "put": {
          const expiresAt = op.expiresAt ?? 0;
          scope.set(op.key, { value: op.value, expiresAt });
          if (expiresAt === 0)
            return { logged: { type: "put", key: op.key, value: op.value }, effect: "plain", value: op.value, expiresAt };
          return {
            logged: { type: "put", key: op.key, value: op.value, expiresAt },
            effect: "stamp",
            value: op.value,
            expiresAt,
          };
        }
        case "delete":
          scope.set(op.key, undefined);
          return { logged: { type: "delete", key: op.key }, effect: "delete", value: "", expiresAt: 0 };
        case "expire":
          return decideExpire(op, scope, nowMs);
        case "deleteRange":
          scope.deleteRange(new RangeDelete(op.gte, op.lt));
          return { logged: { type: "deleteRange", key: op.gte, lt: op.lt }, effect: "range", value: "", expiresAt: 0 };
      }
    });
  }
}

/**
 * An expire: no change on a key without a string (logged all the same), a delete once the key
 * is past its expiry time or the time given has already come, else the value restamped.
 */
function decideExpire(op: KeyspaceOp & { type: "expire" }, scope: WriteScope, nowMs: number): Decided {
  const held = scope.get(op.key);
  if (held === HOLDS_STREAM) throw wrongType(op.key);
  if (held === undefined) return { logged: op, effect: "none", value: "", expiresAt: 0 };
  const { expiresAt } = op;
  if ((held.expiresAt > 0 && held.expiresAt <= nowMs) || (expiresAt > 0 && expiresAt <= nowMs)) {
    scope.set(op.key, undefined);
    return { logged: { type: "delete", key: op.key }, effect: "delete", value: "", expiresAt: 0 };
  }
  scope.set(op.key, { value: held.value, expiresAt });
  return { logged: { type: "expire", key: op.key, expiresAt }, effect: "stamp", value: held.value, expiresAt };
}

function effectOf(op: Decided, lsn: number): QueuedValue {
  switch (op.effect) {
    case "plain":
      return op.value;
    case "stamp":
      return new StoredWrite(toStoredExpiring(op.value, lsn, op.expiresAt));
    case "delete":
      return undefined;
    case "none":
      return NO_CHANGE;
    case "range": {
      const logged = op.logged as Operation & { type: "deleteRange" };
      return new RangeDelete(logged.key, logged.lt);
    }
  }
}
