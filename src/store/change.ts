/**
 * A change of the store as the change feed hands it out, and the operation visitor that turns
 * one log record into its changes. A record is one store write: a batch gives one change per
 * operation, in the order it was written, all with the record's LSN. Another kind of
 * operation in the record format becomes one more visitor method here and one more `type`.
 *
 * Changes are the operations as logged: an expire shows the time it set (0: none) even when its
 * key held nothing and it changed nothing; a range delete shows its bounds, not the keys it
 * removed (its start is `key`, its end `lt`). Deletes of keys past their expiry time, which the
 * expiry sweeper logs, are deletes like any other.
 */
import { decodeStreamCommand } from "../streams/index.js";
import type { Key, KeyEncoding, ValueEncoding } from "./encoding.js";
import { internalToKey, internalToValue } from "./encoding.js";
import { type OperationVisitor, visitOperations } from "./operation.js";
import { describeStreamCommand, type StreamChange } from "./stream-change.js";

export interface Change {
  /** The LSN of the write: all changes of one batch share it. */
  lsn: number;
  /** The change's position among its record's operations (0 for a single put or delete). */
  index: number;
  /** The key written; for a range delete, the range's first key. */
  key: Key;
  type: "put" | "delete" | "stream" | "expire" | "deleteRange";
  /** The value written (puts only), decoded with the store's value encoding. */
  value?: unknown;
  /** A put's expiry time when it has one; the one an expire sets (0: none). ms since the epoch. */
  expiresAt?: number;
  /** A range delete's end (exclusive); absent when the range has none. */
  lt?: Key;
  /** The stream command logged (streams only), as it was asked for: what it decided is in the stream. */
  stream?: StreamChange;
  /** The key's version after the change: the write's LSN, as `get` reports it. */
  version: number;
}

/** Collects the changes of each record it is given; one per feed reader, reused record after record. */
export class ChangeDecoder implements OperationVisitor {
  private readonly keyEncoding: KeyEncoding;
  private readonly valueEncoding: ValueEncoding;
  private lsn = 0;
  private changes: Change[] = [];

  constructor(keyEncoding: KeyEncoding, valueEncoding: ValueEncoding) {
    this.keyEncoding = keyEncoding;
    this.valueEncoding = valueEncoding;
  }

  /** The changes of one record, in operation order. Throws LOGBOOK_CORRUPTION for a malformed record, having collected nothing. */
  decode(payload: Uint8Array, lsn: number): Change[] {
    this.lsn = lsn;
    this.changes = [];
    visitOperations(payload, lsn, this);
    const changes = this.changes;
    this.changes = [];
    return changes;
  }

  put(bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number, expiresAt: number): void {
    const change: Change = {
      lsn: this.lsn,
      index: this.changes.length,
      key: this.keyOf(bytes, keyStart, keyEnd),
      type: "put",
      // Keys and values are binary strings inside the store (encoding.ts): one char per byte.
      value: internalToValue(bytes.toString("latin1", valueStart, valueEnd), this.valueEncoding),
      version: this.lsn,
    };
    if (expiresAt > 0) change.expiresAt = expiresAt;
    this.changes.push(change);
  }

  expire(bytes: Buffer, keyStart: number, keyEnd: number, expiresAt: number): void {
    this.changes.push({
      lsn: this.lsn,
      index: this.changes.length,
      key: this.keyOf(bytes, keyStart, keyEnd),
      type: "expire",
      expiresAt,
      version: this.lsn,
    });
  }

  deleteRange(bytes: Buffer, gteStart: number, gteEnd: number, ltStart: number, ltEnd: number): void {
    const change: Change = {
      lsn: this.lsn,
      index: this.changes.length,
      key: this.keyOf(bytes, gteStart, gteEnd),
      type: "deleteRange",
      version: this.lsn,
    };
    if (ltEnd > ltStart) change.lt = this.keyOf(bytes, ltStart, ltEnd);
    this.changes.push(change);
  }

  delete(bytes: Buffer, keyStart: number, keyEnd: number): void {
    this.changes.push({
      lsn: this.lsn,
      index: this.changes.length,
      key: this.keyOf(bytes, keyStart, keyEnd),
      type: "delete",
      version: this.lsn,
    });
  }

  stream(bytes: Buffer, keyStart: number, keyEnd: number, bodyStart: number, bodyEnd: number): void {
    this.changes.push({
      lsn: this.lsn,
      index: this.changes.length,
      key: this.keyOf(bytes, keyStart, keyEnd),
      type: "stream",
      stream: describeStreamCommand(decodeStreamCommand(bytes, bodyStart, bodyEnd, this.lsn), this.keyEncoding),
      version: this.lsn,
    });
  }

  private keyOf(bytes: Buffer, start: number, end: number): Key {
    return internalToKey(bytes.toString("latin1", start, end), this.keyEncoding);
  }
}
