/**
 * The store's log record (docs/format.md, "Store operation record"): one atomic write of one
 * or more operations. Conditions (ifVersion) are checked before a write is sequenced and are
 * not logged: replay applies what was decided.
 *
 *   0  u8   format (1)
 *   1  u8   kind (1 = write)
 *   2  u16  reserved, zero
 *   4  u32  operation count (at least 1)
 *   8  operations, each: u8 type, u32 key bytes, key, then by type:
 *        1 put:              u32 value bytes, value
 *        2 delete:           nothing
 *        3 stream command:   u32 body bytes, body (src/streams/stream-command.ts)
 *        4 expiring put:     u64 expiresAt (ms since the epoch, at least 1), u32 value bytes, value
 *        5 expire:           u64 expiresAt (0: the key no longer expires)
 *        6 delete range:     u32 bytes, the range's end (exclusive; empty: no end); the key is its start
 *   u64: two u32 halves, low first, at most 2^53 - 1.
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import type { PayloadSource } from "../log/index.js";

export type Operation =
  /** `expiresAt`: ms since the epoch; absent or 0 for a put that does not expire. */
  | { type: "put"; key: string; value: string; expiresAt?: number }
  | { type: "delete"; key: string }
  | { type: "stream"; key: string; body: Buffer }
  /** Sets the key's expiry time (0: none) when it holds a string; no change when it holds none. */
  | { type: "expire"; key: string; expiresAt: number }
  /** Deletes every key (strings and streams) from `key` on, below `lt` ("" : no end). */
  | { type: "deleteRange"; key: string; lt: string };

const FORMAT = 1;
const KIND_WRITE = 1;
const TYPE_PUT = 1;
const TYPE_DELETE = 2;
const TYPE_STREAM = 3;
const TYPE_EXPIRING_PUT = 4;
const TYPE_EXPIRE = 5;
const TYPE_DELETE_RANGE = 6;
const HEADER_BYTES = 8;
/** Type and key length, before the key. */
const OPERATION_HEAD_BYTES = 5;
const LENGTH_BYTES = 4;
const U64_BYTES = 8;
const TWO_POW_32 = 2 ** 32;

/** Keys and values are binary strings (encoding.ts): one char per byte. */
export function encodeOperations(operations: readonly Operation[]): Uint8Array {
  let size = HEADER_BYTES;
  for (const op of operations) size += encodedBytes(op);
  const bytes = writeHeader(size, operations.length);
  let offset = HEADER_BYTES;
  for (const op of operations) offset = writeAnyOperation(bytes, offset, op);
  assert(offset === size, "a record's operations fill it exactly");
  return bytes;
}

function encodedBytes(op: Operation): number {
  const head = OPERATION_HEAD_BYTES + op.key.length;
  switch (op.type) {
    case "put":
      return head + ((op.expiresAt ?? 0) > 0 ? U64_BYTES : 0) + LENGTH_BYTES + op.value.length;
    case "delete":
      return head;
    case "stream":
      return head + LENGTH_BYTES + op.body.length;
    case "expire":
      return head + U64_BYTES;
    case "deleteRange":
      return head + LENGTH_BYTES + op.lt.length;
  }
}

function writeAnyOperation(bytes: Buffer, at: number, op: Operation): number {
  switch (op.type) {
    case "put":
      if (op.expiresAt !== undefined && op.expiresAt > 0) return writeExpiringPut(bytes, at, op.key, op.value, op.expiresAt);
      return writeOperation(bytes, at, op.key, op.value);
    case "delete":
      return writeOperation(bytes, at, op.key, undefined);
    case "stream":
      return writeStreamOperation(bytes, at, op.key, op.body);
    case "expire": {
      const offset = writeTypeAndKey(bytes, at, TYPE_EXPIRE, op.key);
      writeU64(bytes, op.expiresAt, offset);
      return offset + U64_BYTES;
    }
    case "deleteRange":
      return writeText(bytes, writeTypeAndKey(bytes, at, TYPE_DELETE_RANGE, op.key), op.lt);
  }
}

function writeTypeAndKey(bytes: Buffer, at: number, type: number, key: string): number {
  bytes[at] = type;
  return writeText(bytes, at + 1, key);
}

/** u32 length, then the binary string's bytes; returns the offset after them. */
function writeText(bytes: Buffer, at: number, text: string): number {
  bytes.writeUInt32LE(text.length, at);
  return at + LENGTH_BYTES + bytes.write(text, at + LENGTH_BYTES, "latin1");
}

function writeU64(bytes: Buffer, value: number, at: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, "a logged u64 is a safe integer");
  bytes.writeUInt32LE(value % TWO_POW_32, at);
  bytes.writeUInt32LE(Math.floor(value / TWO_POW_32), at + 4);
}

function readU64(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at + 4) * TWO_POW_32 + bytes.readUInt32LE(at);
}

function writeExpiringPut(bytes: Buffer, at: number, key: string, value: string, expiresAt: number): number {
  const offset = writeTypeAndKey(bytes, at, TYPE_EXPIRING_PUT, key);
  writeU64(bytes, expiresAt, offset);
  return writeText(bytes, offset + U64_BYTES, value);
}

function writeStreamOperation(bytes: Buffer, at: number, key: string, body: Buffer): number {
  let offset = at;
  bytes[offset++] = TYPE_STREAM;
  bytes.writeUInt32LE(key.length, offset);
  offset += 4;
  offset += bytes.write(key, offset, "latin1");
  bytes.writeUInt32LE(body.length, offset);
  offset += 4;
  return offset + body.copy(bytes, offset);
}

/**
 * The record of a single put or delete, without an Operation to describe it (the common
 * write), as a payload source: set to a put or delete, then handed to
 * WriteAheadLog.sequence, which has it write itself into the log's buffer. One per store, reused:
 * a write then allocates no Uint8Array of its own, and its bytes are not copied again
 * (bench:store measures the put path).
 */
export class SingleOperation implements PayloadSource {
  private key = "";
  private value: string | undefined = undefined;
  payloadBytes = 0;

  /** Describes the next record: a put when `value` is given, else a delete. */
  describe(key: string, value: string | undefined): this {
    this.key = key;
    this.value = value;
    this.payloadBytes = HEADER_BYTES + operationBytes(key, value);
    return this;
  }

  writePayload(target: Uint8Array, offset: number): void {
    const bytes = bufferOver(target);
    const at = target.byteOffset + offset;
    writeHeaderAt(bytes, at, 1);
    const end = writeOperation(bytes, at + HEADER_BYTES, this.key, this.value);
    assert(end - at === this.payloadBytes, "a store operation writes its payloadBytes, no more, no less");
  }
}

/**
 * The record of one or more stream commands (already encoded), as a payload source: written
 * straight into the log's buffer, so a command's bytes are copied once more, not twice.
 */
export class StreamOperations implements PayloadSource {
  readonly payloadBytes: number;

  constructor(private readonly operations: readonly { key: string; body: Buffer }[]) {
    let size = HEADER_BYTES;
    for (const op of operations) size += 9 + op.key.length + op.body.length;
    this.payloadBytes = size;
  }

  writePayload(target: Uint8Array, offset: number): void {
    const bytes = bufferOver(target);
    const at = target.byteOffset + offset;
    writeHeaderAt(bytes, at, this.operations.length);
    let end = at + HEADER_BYTES;
    for (const op of this.operations) end = writeStreamOperation(bytes, end, op.key, op.body);
    assert(end - at === this.payloadBytes, "stream operations write their payloadBytes, no more, no less");
  }
}

function operationBytes(key: string, value: string | undefined): number {
  return 1 + 4 + key.length + (value === undefined ? 0 : 4 + value.length);
}

function writeHeader(size: number, count: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  writeHeaderAt(bytes, 0, count);
  return bytes;
}

function writeHeaderAt(bytes: Buffer, at: number, count: number): void {
  bytes[at] = FORMAT;
  bytes[at + 1] = KIND_WRITE;
  bytes.writeUInt16LE(0, at + 2);
  bytes.writeUInt32LE(count, at + 4);
}

function writeOperation(bytes: Buffer, at: number, key: string, value: string | undefined): number {
  let offset = at;
  bytes[offset++] = value === undefined ? TYPE_DELETE : TYPE_PUT;
  bytes.writeUInt32LE(key.length, offset);
  offset += 4;
  offset += bytes.write(key, offset, "latin1");
  if (value !== undefined) {
    bytes.writeUInt32LE(value.length, offset);
    offset += 4;
    offset += bytes.write(value, offset, "latin1");
  }
  return offset;
}

function malformed(lsn: number, reason: string): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `log record ${lsn} is not a store operation: ${reason}`, { lsn });
}

/**
 * What decoding a record does with each operation (replay applies them directly). The key is
 * bytes[keyStart, keyEnd) and a put's value bytes[valueStart, valueEnd): the visitor copies
 * what it keeps, and makes a string of the key only if it needs one.
 */
export interface OperationVisitor {
  /** A put; `expiresAt` is its expiry time, ms since the epoch, or 0 when it has none. */
  put(bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number, expiresAt: number): void;
  delete(bytes: Buffer, keyStart: number, keyEnd: number): void;
  /** A stream command on the key; its body is bytes[bodyStart, bodyEnd) (decodeStreamCommand). */
  stream(bytes: Buffer, keyStart: number, keyEnd: number, bodyStart: number, bodyEnd: number): void;
  /** Sets the key's expiry time (0: none), when the key holds a string. */
  expire(bytes: Buffer, keyStart: number, keyEnd: number, expiresAt: number): void;
  /** Deletes every key in [bytes[gteStart, gteEnd), bytes[ltStart, ltEnd)); an empty end is no end. */
  deleteRange(bytes: Buffer, gteStart: number, gteEnd: number, ltStart: number, ltEnd: number): void;
}

/**
 * A Buffer over all of `payload`'s memory, reused while records come from the same chunk:
 * replay decodes millions of records, and a Buffer view per record was a tenth of its time
 * (allocation and GC). Keeps the last chunk alive until the next one comes; that is all.
 */
let viewedMemory: ArrayBufferLike | undefined;
let viewOfMemory: Buffer = Buffer.alloc(0);
function bufferOver(payload: Uint8Array): Buffer {
  if (payload.buffer !== viewedMemory) {
    viewedMemory = payload.buffer;
    viewOfMemory = Buffer.from(payload.buffer);
  }
  return viewOfMemory;
}

/**
 * Decodes a record and hands each operation to `visit`, in order, with no intermediate
 * objects (replay decodes every record). Throws LOGBOOK_CORRUPTION before visiting anything
 * when the record is malformed.
 */
export function visitOperations(payload: Uint8Array, lsn: number, visit: OperationVisitor): void {
  visitOperationsIn(payload, 0, payload.byteLength, lsn, visit);
}

/** The same for the record in memory[start, end) (replay visits records where they were read). */
export function visitOperationsIn(memory: Uint8Array, from: number, to: number, lsn: number, visit: OperationVisitor): void {
  const bytes = bufferOver(memory);
  const start = memory.byteOffset + from;
  checkOperations(bytes, start, memory.byteOffset + to, lsn);
  const count = bytes.readUInt32LE(start + 4);
  let offset = start + HEADER_BYTES;
  for (let i = 0; i < count; i++) offset = visitOne(bytes, offset, visit);
}

/** Visits the (checked) operation at `at`; returns the offset after it. */
function visitOne(bytes: Buffer, at: number, visit: OperationVisitor): number {
  const type = bytes[at];
  const keyStart = at + OPERATION_HEAD_BYTES;
  const keyEnd = keyStart + bytes.readUInt32LE(at + 1);
  let offset = keyEnd;
  if (type === TYPE_DELETE) {
    visit.delete(bytes, keyStart, keyEnd);
    return offset;
  }
  if (type === TYPE_EXPIRE) {
    visit.expire(bytes, keyStart, keyEnd, readU64(bytes, offset));
    return offset + U64_BYTES;
  }
  let expiresAt = 0;
  if (type === TYPE_EXPIRING_PUT) {
    expiresAt = readU64(bytes, offset);
    offset += U64_BYTES;
  }
  const length = bytes.readUInt32LE(offset);
  offset += LENGTH_BYTES;
  if (type === TYPE_STREAM) visit.stream(bytes, keyStart, keyEnd, offset, offset + length);
  else if (type === TYPE_DELETE_RANGE) visit.deleteRange(bytes, keyStart, keyEnd, offset, offset + length);
  else visit.put(bytes, keyStart, keyEnd, offset, offset + length, expiresAt);
  return offset + length;
}

/** Validates the structure of a record (bytes[start, end)) completely, so that visiting it cannot stop halfway. */
function checkOperations(bytes: Buffer, start: number, end: number, lsn: number): void {
  if (end - start < HEADER_BYTES) throw malformed(lsn, "too short");
  if (bytes[start] !== FORMAT || bytes[start + 1] !== KIND_WRITE) {
    throw malformed(lsn, `unknown format ${bytes[start]}/${bytes[start + 1]}`);
  }
  const count = bytes.readUInt32LE(start + 4);
  if (count < 1) throw malformed(lsn, "no operation");
  let offset = start + HEADER_BYTES;
  for (let i = 0; i < count; i++) offset = checkOperation(bytes, offset, end, lsn);
  if (offset !== end) throw malformed(lsn, "bytes after the last operation");
}

/** Checks the operation at `at` (and that it ends by `end`); returns the offset after it. */
function checkOperation(bytes: Buffer, at: number, end: number, lsn: number): number {
  if (at + OPERATION_HEAD_BYTES > end) throw malformed(lsn, "truncated");
  const type = bytes[at] as number;
  if (type < TYPE_PUT || type > TYPE_DELETE_RANGE) throw malformed(lsn, `unknown operation type ${type}`);
  let offset = at + OPERATION_HEAD_BYTES + bytes.readUInt32LE(at + 1);
  if (offset > end) throw malformed(lsn, "truncated");
  if (type === TYPE_DELETE) return offset;
  if (type === TYPE_EXPIRE || type === TYPE_EXPIRING_PUT) {
    if (offset + U64_BYTES > end) throw malformed(lsn, "truncated");
    const expiresAt = readU64(bytes, offset);
    if (!Number.isSafeInteger(expiresAt)) throw malformed(lsn, "an expiry time past 2^53 - 1");
    if (type === TYPE_EXPIRING_PUT && expiresAt === 0) throw malformed(lsn, "an expiring put without an expiry time");
    offset += U64_BYTES;
    if (type === TYPE_EXPIRE) return offset;
  }
  if (offset + LENGTH_BYTES > end) throw malformed(lsn, "truncated");
  offset += LENGTH_BYTES + bytes.readUInt32LE(offset);
  if (offset > end) throw malformed(lsn, "truncated");
  return offset;
}
