/**
 * The bytes of a stream command (docs/format.md, "Stream command"): its kind (u8, the index of
 * its schema in SCHEMAS + 1) followed by its fields in schema order, each as its type says:
 * `num` f64 LE; `str` u32 LE length then the bytes (a binary string, one char per byte); `id`
 * 16 bytes; `ids`/`strs` a count (f64) then each; `bool` u8; an optional field a u8 presence
 * flag (0/1) then the field when present.
 */
import { LogbookError } from "../errors.js";
import {
  type FieldType,
  type Retention,
  SCHEMAS,
  type StreamCommand,
  type TrimSpec,
  type TrimStrategy,
} from "./stream-command.js";
import type { IdRequest, StreamId } from "./stream-id.js";

const CODE_OF = new Map(SCHEMAS.map(([kind], i) => [kind, i + 1]));
const ID_BYTES = 16;
const TRIM_STRATEGIES: readonly TrimStrategy[] = ["maxlen", "minid", "maxbytes"];
const ID_REQUEST_KINDS = ["auto", "ms", "explicit"] as const;

/** Encodes into one growing buffer (a command is usually a few hundred bytes: one allocation). */
class Writer {
  private buffer = Buffer.allocUnsafe(256);
  size = 0;

  private room(n: number): number {
    const at = this.size;
    if (at + n > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, at + n));
      this.buffer.copy(grown, 0, 0, at);
      this.buffer = grown;
    }
    this.size = at + n;
    return at;
  }

  // Each write takes its offset from room() first: room() may replace the buffer, and
  // `this.buffer.write(…, this.room(n))` would write into the old one (JS reads the object before the arguments).
  u8(value: number): void {
    const at = this.room(1);
    this.buffer[at] = value;
  }

  num(value: number): void {
    const at = this.room(8);
    this.buffer.writeDoubleLE(value, at);
  }

  str(value: string): void {
    const lengthAt = this.room(4);
    this.buffer.writeUInt32LE(value.length, lengthAt);
    const at = this.room(value.length);
    this.buffer.write(value, at, "latin1");
  }

  id(value: StreamId): void {
    const at = this.room(ID_BYTES);
    this.buffer.write(value, at, "latin1");
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.size);
  }
}

function writeField(w: Writer, type: FieldType, value: unknown): void {
  switch (type) {
    case "num":
      w.num(value as number);
      return;
    case "str":
      w.str(value as string);
      return;
    case "id":
      w.id(value as StreamId);
      return;
    case "bool":
      w.u8(value ? 1 : 0);
      return;
    case "ids":
    case "strs": {
      const list = value as string[];
      w.num(list.length);
      for (const item of list) type === "ids" ? w.id(item) : w.str(item);
      return;
    }
    case "idreq": {
      const request = value as IdRequest;
      w.u8(ID_REQUEST_KINDS.indexOf(request.kind));
      if (request.kind === "ms") w.str(request.ms.toString());
      if (request.kind === "explicit") w.id(request.id);
      return;
    }
    case "trim": {
      const trim = value as TrimSpec;
      w.u8(TRIM_STRATEGIES.indexOf(trim.strategy));
      w.num(trim.threshold);
      w.id(trim.minId);
      w.u8(trim.approximate ? 1 : 0);
      w.num(trim.limit);
      return;
    }
    case "retention": {
      const retention = value as Retention;
      w.num(retention.maxLength);
      w.num(retention.maxBytes);
      w.num(retention.maxAgeMs);
      return;
    }
    case "start":
      if (value === "$") {
        w.u8(0);
        return;
      }
      w.u8(1);
      w.id(value as StreamId);
      return;
  }
}

/** The body of `command` (its kind's code, then its fields). */
export function encodeStreamCommand(command: StreamCommand): Buffer {
  const code = CODE_OF.get(command.kind) as number;
  const [, fields] = SCHEMAS[code - 1] as (typeof SCHEMAS)[number];
  const w = new Writer();
  w.u8(code);
  const values = command as unknown as Record<string, unknown>;
  for (const [name, type, optional] of fields) {
    const value = values[name];
    if (optional) {
      w.u8(value === undefined ? 0 : 1);
      if (value === undefined) continue;
    }
    writeField(w, type, value);
  }
  return w.bytes();
}

function malformed(lsn: number, reason: string): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `log record ${lsn} holds a stream command that is not one: ${reason}`, { lsn });
}

/** Reads fields from bytes[at, end), throwing LOGBOOK_CORRUPTION past `end`. */
class Reader {
  constructor(
    private readonly bytes: Buffer,
    public at: number,
    private readonly end: number,
    private readonly lsn: number,
  ) {}

  private take(n: number): number {
    const at = this.at;
    if (at + n > this.end) throw malformed(this.lsn, "truncated");
    this.at = at + n;
    return at;
  }

  u8(): number {
    return this.bytes[this.take(1)] as number;
  }

  num(): number {
    return this.bytes.readDoubleLE(this.take(8));
  }

  str(): string {
    const length = this.bytes.readUInt32LE(this.take(4));
    const at = this.take(length);
    return this.bytes.toString("latin1", at, at + length);
  }

  id(): StreamId {
    const at = this.take(ID_BYTES);
    return this.bytes.toString("latin1", at, at + ID_BYTES);
  }

  count(): number {
    const n = this.num();
    // Each item takes at least a byte: a count beyond the bytes left is damage, not a huge list.
    if (!Number.isSafeInteger(n) || n < 0 || n > this.end - this.at) throw malformed(this.lsn, "bad count");
    return n;
  }
}

function readField(r: Reader, type: FieldType, lsn: number): unknown {
  switch (type) {
    case "num":
      return r.num();
    case "str":
      return r.str();
    case "id":
      return r.id();
    case "bool":
      return r.u8() === 1;
    case "ids":
    case "strs": {
      const n = r.count();
      const list: string[] = new Array(n);
      for (let i = 0; i < n; i++) list[i] = type === "ids" ? r.id() : r.str();
      return list;
    }
    case "idreq": {
      const kind = ID_REQUEST_KINDS[r.u8()];
      if (kind === "auto") return { kind };
      if (kind === "ms") return { kind, ms: BigInt(r.str()) };
      if (kind === "explicit") return { kind, id: r.id() };
      throw malformed(lsn, "unknown ID request");
    }
    case "trim": {
      const strategy = TRIM_STRATEGIES[r.u8()];
      if (strategy === undefined) throw malformed(lsn, "unknown trim strategy");
      return { strategy, threshold: r.num(), minId: r.id(), approximate: r.u8() === 1, limit: r.num() };
    }
    case "retention":
      return { maxLength: r.num(), maxBytes: r.num(), maxAgeMs: r.num() };
    case "start":
      return r.u8() === 0 ? "$" : r.id();
  }
}

/** Decodes the command in bytes[start, end); throws LOGBOOK_CORRUPTION when it is not one. */
export function decodeStreamCommand(bytes: Buffer, start: number, end: number, lsn: number): StreamCommand {
  const r = new Reader(bytes, start, end, lsn);
  const schema = SCHEMAS[r.u8() - 1];
  if (schema === undefined) throw malformed(lsn, `unknown kind ${bytes[start]}`);
  const [kind, fields] = schema;
  const command: Record<string, unknown> = { kind };
  for (const [name, type, optional] of fields) {
    if (optional && r.u8() === 0) continue;
    command[name] = readField(r, type, lsn);
  }
  if (r.at !== end) throw malformed(lsn, "bytes after the command");
  return command as unknown as StreamCommand;
}
