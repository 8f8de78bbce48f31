/**
 * Replay: the log's records after the checkpoint loaded, applied to its state (recovery.ts).
 *
 * In two passes. The first notes, by the key's bytes, the LSN of each key's last write (a
 * KeyTable: no string, no object, no tree descent per record), and applies stream commands in
 * log order, where what they decide depends on. The second reads again from the oldest of
 * those LSNs and builds only the values that last. Building every replayed value and setting
 * it in the B+ tree was most of replay's time (the garbage collector copied each value, since
 * it lived until its key's next write); a log that rewrites its keys N times now builds 1/N of
 * them, and the tree is written once per key.
 *
 * Expiry times are stamps on top of that: a key whose last put had one, or that an expire
 * found holding a string since, gets its version and expiry restamped at the end. Replay never
 * reads the clock: an expire applies to a key that holds a string, whatever its expiry time
 * (the writer logged a delete where the key had already expired: keyspace-write.ts).
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import type { WriteAheadLog } from "../log/index.js";
import { decodeStreamCommand, type StreamSpace } from "../streams/index.js";
import { KeyTable } from "./key-table.js";
import { type OperationVisitor, visitOperationsIn } from "./operation.js";
import { RangeDelete } from "./queued-effects.js";
import type { StoreRecoveryReport } from "./recovery.js";
import { restamped, type SortedState, type Stored, storedFromBytes } from "./state.js";

/** A key's last replayed write was a delete (LSNs start at 1). */
const DELETED = 0;

/** The first pass: each key's last write, expiry stamps, stream commands applied. */
class LastWrites implements OperationVisitor {
  /** The LSN of the record being visited. */
  lsn = 0;
  readonly table = new KeyTable();
  /**
   * Keys whose state is not their last put's value at that put's LSN without an expiry: the
   * version and expiry time (0: none) they end with. Set by an expiring put or an expire,
   * removed by a later plain put or delete of the key.
   */
  readonly stamps = new Map<string, [version: number, expiresAt: number]>();
  /** Range deletes (start and end) whose checkpoint keys are all noted as deleted already. */
  private readonly rangesDone = new Set<string>();

  constructor(
    private readonly state: SortedState,
    private readonly streams: StreamSpace,
  ) {}

  // A key holds a string at this point of the log when its last write so far was a put, or,
  // written by no record replayed yet, when the checkpoint has it.
  readonly holdsString = (key: string): boolean => {
    const bytes = Buffer.from(key, "latin1");
    const entry = this.table.entryOf(bytes, 0, bytes.length);
    return entry >= 0 ? this.table.valueAt(entry) !== DELETED : this.state.get(key) !== undefined;
  };

  // A put or delete of a key removes its stream, as it does live.
  put(bytes: Buffer, keyStart: number, keyEnd: number, _valueStart: number, _valueEnd: number, expiresAt: number): void {
    this.table.set(bytes, keyStart, keyEnd, this.lsn);
    if (expiresAt > 0) this.stamps.set(bytes.toString("latin1", keyStart, keyEnd), [this.lsn, expiresAt]);
    else if (this.stamps.size > 0) this.stamps.delete(bytes.toString("latin1", keyStart, keyEnd));
    if (this.streams.size > 0) this.streams.drop(bytes.toString("latin1", keyStart, keyEnd));
  }

  delete(bytes: Buffer, keyStart: number, keyEnd: number): void {
    this.table.set(bytes, keyStart, keyEnd, DELETED);
    if (this.stamps.size > 0) this.stamps.delete(bytes.toString("latin1", keyStart, keyEnd));
    if (this.streams.size > 0) this.streams.drop(bytes.toString("latin1", keyStart, keyEnd));
  }

  stream(bytes: Buffer, keyStart: number, keyEnd: number, bodyStart: number, bodyEnd: number): void {
    const command = decodeStreamCommand(bytes, bodyStart, bodyEnd, this.lsn);
    this.streams.apply(bytes.toString("latin1", keyStart, keyEnd), command, this.holdsString);
  }

  expire(bytes: Buffer, keyStart: number, keyEnd: number, expiresAt: number): void {
    const key = bytes.toString("latin1", keyStart, keyEnd);
    if (this.holdsString(key)) this.stamps.set(key, [this.lsn, expiresAt]);
  }

  deleteRange(bytes: Buffer, gteStart: number, gteEnd: number, ltStart: number, ltEnd: number): void {
    const range = new RangeDelete(bytes.toString("latin1", gteStart, gteEnd), bytes.toString("latin1", ltStart, ltEnd));
    // The checkpoint's keys in range, once per range: a key of them written again since is in the table.
    const done = `${range.gte.length}/${range.gte}${range.lt}`;
    if (!this.rangesDone.has(done)) {
      for (const [key] of this.state.entries(range.gte, false)) {
        if (!range.covers(key)) break;
        const keyBytes = Buffer.from(key, "latin1");
        this.table.set(keyBytes, 0, keyBytes.length, DELETED);
      }
      this.rangesDone.add(done);
    }
    this.table.forEachExcept(DELETED, (key, _lsn, entry) => {
      if (range.covers(key)) this.table.setAt(entry, DELETED);
    });
    for (const key of this.stamps.keys()) if (range.covers(key)) this.stamps.delete(key);
    if (this.streams.size === 0) return;
    for (const key of [...this.streams.keys()]) if (range.covers(key)) this.streams.drop(key);
  }

  /** Sets the versions and expiry times `stamps` holds, once every key's last value is in `state`. */
  applyStamps(state: SortedState): void {
    for (const [key, [version, expiresAt]] of this.stamps) {
      const stored = state.get(key);
      assert(stored !== undefined, "a stamped key holds a string after replay");
      state.set(key, restamped(stored, version, expiresAt));
    }
  }
}

/** Replays the log after `afterLsn` into `state` and `streams`; resolves the last LSN replayed. */
export async function replay(
  log: WriteAheadLog,
  afterLsn: number,
  state: SortedState,
  streams: StreamSpace,
  report: StoreRecoveryReport,
): Promise<number> {
  const lastWrites = new LastWrites(state, streams);
  let lastLsn = afterLsn;
  await log.visitRecords({ from: afterLsn + 1 }, (lsn, bytes, start, end) => {
    lastLsn = lsn;
    lastWrites.lsn = lsn;
    visitOperationsIn(bytes, start, end, lsn, lastWrites);
    report.recordsReplayed++;
    report.bytesReplayed += end - start;
  });
  if (lastWrites.table.size > 0) await buildLastValues(log, lastWrites.table, state, lastLsn);
  lastWrites.applyStamps(state);
  return lastLsn;
}

/** The second pass: builds each key's last value and sets it in `state` (or deletes the key). */
async function buildLastValues(log: WriteAheadLog, lastWrites: KeyTable, state: SortedState, lastLsn: number): Promise<void> {
  const lsns: number[] = [];
  lastWrites.forEachValue((lsn) => {
    if (lsn !== DELETED) lsns.push(lsn);
  });
  const values: Stored[] = new Array(lastWrites.size);
  let built = 0;
  if (lsns.length > 0) {
    const wanted = Float64Array.from(lsns).sort();
    let next = 0;
    const { operations, collect } = operationCollector();
    await log.visitRecords({ from: wanted[0] }, (lsn, memory, start, end) => {
      if (next >= wanted.length || lsn !== wanted[next]) return;
      while (next < wanted.length && wanted[next] === lsn) next++;
      operations.count = 0;
      visitOperationsIn(memory, start, end, lsn, collect);
      const { bytes } = operations;
      // Last operation first: of two puts of a key in one batch, the second is the one kept.
      for (let i = operations.count - 1; i >= 0; i--) {
        const valueStart = operations.valueStarts[i] as number;
        if (valueStart < 0) continue;
        const entry = lastWrites.entryOf(bytes, operations.keyStarts[i] as number, operations.keyEnds[i] as number);
        if (lastWrites.valueAt(entry) !== lsn || values[entry] !== undefined) continue;
        values[entry] = storedFromBytes(bytes, valueStart, operations.valueEnds[i] as number, lsn);
        built++;
      }
    });
  }
  if (built !== lsns.length) {
    // The log is locked by this store: the second pass reads what the first did.
    throw new LogbookError("LOGBOOK_CORRUPTION", `replay found ${built} of the ${lsns.length} values it noted`, {
      lsn: lastLsn,
    });
  }
  lastWrites.forEach((key, lsn, entry) => {
    if (lsn === DELETED) state.delete(key);
    else state.set(key, values[entry] as Stored);
  });
}

/** One record's operations as byte ranges, kept so they can be taken in any order. */
function operationCollector() {
  const operations = {
    keyStarts: [] as number[],
    keyEnds: [] as number[],
    /** -1 for a delete. */
    valueStarts: [] as number[],
    valueEnds: [] as number[],
    /** What the ranges are in: the record's memory as a Buffer (operation.ts). */
    bytes: Buffer.alloc(0) as Buffer,
    count: 0,
  };
  const note = (bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => {
    operations.bytes = bytes;
    const i = operations.count++;
    operations.keyStarts[i] = keyStart;
    operations.keyEnds[i] = keyEnd;
    operations.valueStarts[i] = valueStart;
    operations.valueEnds[i] = valueEnd;
  };
  const collect: OperationVisitor = {
    put: note,
    delete: (bytes: Buffer, keyStart: number, keyEnd: number) => note(bytes, keyStart, keyEnd, -1, -1),
    // Applied in the first pass; these write no string value.
    stream: () => undefined,
    expire: () => undefined,
    deleteRange: () => undefined,
  };
  return { operations, collect };
}
