/**
 * The store's log record (docs/format.md, "Store operation record"): one atomic write of one
 * or more puts and deletes. Conditions (ifVersion) are checked before a write is sequenced and
 * are not logged: replay applies what was decided.
 *
 *   0  u8   format (1)
 *   1  u8   kind (1 = write)
 *   2  u16  reserved, zero
 *   4  u32  operation count (at least 1)
 *   8  operations, each:
 *        u8 type (1 = put, 2 = delete, 3 = stream command), u32 key bytes, key,
 *        put only: u32 value bytes, value
 *        stream command only: u32 body bytes, body (src/streams/stream-command.ts)
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import type { PayloadSource } from "../log/index.js";

export type Operation =
  | { type: "put"; key: string; value: string }
  | { type: "delete"; key: string }
  | { type: "stream"; key: string; body: Buffer };

const FORMAT = 1;
const KIND_WRITE = 1;
const TYPE_PUT = 1;
const TYPE_DELETE = 2;
const TYPE_STREAM = 3;
const HEADER_BYTES = 8;

/** Keys and values are binary strings (encoding.ts): one char per byte. */
export function encodeOperations(operations: readonly Operation[]): Uint8Array {
  let size = HEADER_BYTES;
  for (const op of operations)
    size += op.type === "stream" ? 9 + op.key.length + op.body.length : operationBytes(op.key, putValue(op));
  const bytes = writeHeader(size, operations.length);
  let offset = HEADER_BYTES;
  for (const op of operations) {
    offset =
      op.type === "stream"
        ? writeStreamOperation(bytes, offset, op.key, op.body)
        : writeOperation(bytes, offset, op.key, putValue(op));
  }
  return bytes;
}

function putValue(op: Operation): string | undefined {
  return op.type === "put" ? op.value : undefined;
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
  put(bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void;
  delete(bytes: Buffer, keyStart: number, keyEnd: number): void;
  /** A stream command on the key; its body is bytes[bodyStart, bodyEnd) (decodeStreamCommand). */
  stream(bytes: Buffer, keyStart: number, keyEnd: number, bodyStart: number, bodyEnd: number): void;
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
  for (let i = 0; i < count; i++) {
    const type = bytes[offset];
    const keyStart = offset + 5;
    const keyEnd = keyStart + bytes.readUInt32LE(offset + 1);
    offset = keyEnd;
    if (type === TYPE_PUT || type === TYPE_STREAM) {
      const valueLength = bytes.readUInt32LE(offset);
      offset += 4;
      if (type === TYPE_PUT) visit.put(bytes, keyStart, keyEnd, offset, offset + valueLength);
      else visit.stream(bytes, keyStart, keyEnd, offset, offset + valueLength);
      offset += valueLength;
    } else {
      visit.delete(bytes, keyStart, keyEnd);
    }
  }
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
  for (let i = 0; i < count; i++) {
    if (offset + 5 > end) throw malformed(lsn, "truncated");
    const type = bytes[offset];
    offset += 5 + bytes.readUInt32LE(offset + 1);
    if (offset > end) throw malformed(lsn, "truncated");
    if (type === TYPE_PUT || type === TYPE_STREAM) {
      if (offset + 4 > end) throw malformed(lsn, "truncated");
      offset += 4 + bytes.readUInt32LE(offset);
      if (offset > end) throw malformed(lsn, "truncated");
    } else if (type !== TYPE_DELETE) {
      throw malformed(lsn, `unknown operation type ${type}`);
    }
  }
  if (offset !== end) throw malformed(lsn, "bytes after the last operation");
}
