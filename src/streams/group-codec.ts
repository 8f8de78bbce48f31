/**
 * Consumer groups in a checkpoint: the bytes of docs/format.md, section "Consumer groups in a
 * checkpoint". Everything a group holds round-trips exactly: names, last delivered ID,
 * entries-read, the dead-letter rule, each consumer's times and each pending entry's owner,
 * delivery time and count. A pending entry is written once, under its owner: the group's PEL is
 * the union of its consumers'. Any byte out of place is LOGBOOK_CORRUPTION.
 */
import { LogbookError } from "../errors.js";
import { crc32 } from "../log/index.js";
import { ConsumerGroup } from "./consumer-group.js";
import { CONSUMER_NAME_BYTES_MAX, DEAD_LETTER_KEY_BYTES_MAX, GROUP_CONSUMERS_MAX, GROUP_NAME_BYTES_MAX } from "./group-limits.js";
import type { StreamId } from "./stream-id.js";

/** ASCII `LBCG`. */
export const GROUPS_MAGIC = 0x4743424c;
export const GROUPS_FORMAT_VERSION = 1;
export const GROUPS_HEADER_BYTES = 12;
export const GROUPS_CRC_BYTES = 4;
const ID_BYTES = 16;
const FLAG_ENTRIES_READ = 1;
const FLAG_MAX_DELIVERIES = 2;
const FLAG_DEAD_LETTER_KEY = 4;
const GROUP_FLAGS = FLAG_ENTRIES_READ | FLAG_MAX_DELIVERIES | FLAG_DEAD_LETTER_KEY;
const FLAG_ACTIVE = 1;
const TWO_32 = 2 ** 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A growing output buffer. Each write reserves first: growing replaces `bytes` and `view`. */
class ByteWriter {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(size: number): number {
    if (this.length + size > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + size));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += size;
    return at;
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }

  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }

  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }

  /** Two u32 halves, low first; `value` is a safe non-negative integer. */
  u64(value: number): void {
    this.u32(value % TWO_32);
    this.u32(Math.floor(value / TWO_32));
  }

  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.bytes.set(bytes, at);
  }

  text(value: string): void {
    const bytes = encoder.encode(value);
    this.u32(bytes.length);
    this.raw(bytes);
  }

  id(id: StreamId): void {
    const at = this.reserve(ID_BYTES);
    for (let i = 0; i < ID_BYTES; i++) this.bytes[at + i] = id.charCodeAt(i);
  }
}

function writeGroup(out: ByteWriter, group: ConsumerGroup): void {
  out.text(group.name);
  out.id(group.lastDeliveredId);
  let flags = 0;
  if (group.entriesRead !== undefined) flags |= FLAG_ENTRIES_READ;
  if (group.maxDeliveries !== undefined) flags |= FLAG_MAX_DELIVERIES;
  if (group.deadLetterKey !== undefined) flags |= FLAG_DEAD_LETTER_KEY;
  out.u8(flags);
  out.u64(group.entriesRead ?? 0);
  out.u32(group.maxDeliveries ?? 0);
  out.text(group.deadLetterKey ?? "");
  const consumers = group.pending.consumersInOrder();
  out.u32(consumers.length);
  for (const consumer of consumers) {
    out.text(consumer.name);
    out.u8(consumer.activeMs === undefined ? 0 : FLAG_ACTIVE);
    out.u64(consumer.seenMs);
    out.u64(consumer.activeMs ?? 0);
    out.u32(consumer.pending.size);
    for (const [id, nack] of consumer.pending.entries()) {
      out.id(id);
      out.u64(nack.deliveredMs);
      out.u64(nack.deliveries);
    }
  }
}

/** The groups as bytes (format.md, "Consumer groups in a checkpoint"). */
export function encodeGroups(groups: readonly ConsumerGroup[]): Uint8Array {
  if (!Array.isArray(groups)) throw new TypeError("groups is an array of ConsumerGroup");
  const out = new ByteWriter();
  out.u32(GROUPS_MAGIC);
  out.u16(GROUPS_FORMAT_VERSION);
  out.u16(0);
  out.u32(groups.length);
  for (const group of groups) {
    if (!(group instanceof ConsumerGroup)) throw new TypeError("groups is an array of ConsumerGroup");
    writeGroup(out, group);
  }
  out.u32(crc32(out.bytes.subarray(0, out.length)));
  return out.bytes.slice(0, out.length);
}

function corrupt(message: string, offset?: number): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `consumer groups: ${message}`, offset === undefined ? {} : { offset });
}

class ByteReader {
  offset = GROUPS_HEADER_BYTES;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly end: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.offset === this.end;
  }

  private take(size: number): number {
    if (size > this.end - this.offset) throw corrupt("a field runs past the end", this.offset);
    const at = this.offset;
    this.offset += size;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  u64(): number {
    const at = this.offset;
    const low = this.u32();
    const high = this.u32();
    const value = high * TWO_32 + low;
    if (!Number.isSafeInteger(value)) throw corrupt("a number is above 2^53 - 1", at);
    return value;
  }

  text(maxBytes: number, what: string): string {
    const at = this.offset;
    const size = this.u32();
    if (size > maxBytes) throw corrupt(`${what} is longer than ${maxBytes} bytes`, at);
    const start = this.take(size);
    try {
      return decoder.decode(this.bytes.subarray(start, start + size));
    } catch (cause) {
      throw new LogbookError("LOGBOOK_CORRUPTION", `consumer groups: ${what} is not UTF-8`, { offset: at, cause });
    }
  }

  id(): StreamId {
    const at = this.take(ID_BYTES);
    return String.fromCharCode(...this.bytes.subarray(at, at + ID_BYTES));
  }
}

function readFlags(input: ByteReader, allowed: number): number {
  const at = input.offset;
  const flags = input.u8();
  if ((flags & ~allowed) !== 0) throw corrupt("unknown flags", at);
  return flags;
}

function readConsumer(input: ByteReader, group: ConsumerGroup): void {
  const at = input.offset;
  const name = input.text(CONSUMER_NAME_BYTES_MAX, "a consumer name");
  if (group.pending.consumer(name) !== undefined) throw corrupt("a consumer appears twice in its group", at);
  const active = (readFlags(input, FLAG_ACTIVE) & FLAG_ACTIVE) !== 0;
  const seenMs = input.u64();
  const activeMs = input.u64();
  const consumer = group.pending.addConsumer(name, seenMs, active ? activeMs : undefined);
  if (!active && activeMs !== 0) throw corrupt("an unknown active time is not 0", at);
  const pending = input.u32();
  let previous: StreamId | undefined;
  for (let i = 0; i < pending; i++) {
    const idAt = input.offset;
    const id = input.id();
    if (previous !== undefined && id <= previous) throw corrupt("a consumer's pending IDs do not increase", idAt);
    if (group.pending.get(id) !== undefined) throw corrupt("an ID is pending for two consumers", idAt);
    previous = id;
    group.pending.add(id, consumer, input.u64(), input.u64());
  }
}

function readGroup(input: ByteReader): ConsumerGroup {
  const at = input.offset;
  const name = input.text(GROUP_NAME_BYTES_MAX, "a group name");
  const lastDeliveredId = input.id();
  const flags = readFlags(input, GROUP_FLAGS);
  const entriesRead = input.u64();
  const maxDeliveries = input.u32();
  const deadLetterKey = input.text(DEAD_LETTER_KEY_BYTES_MAX, "a dead-letter key");
  const fieldsAbsentAreZero =
    ((flags & FLAG_ENTRIES_READ) !== 0 || entriesRead === 0) &&
    ((flags & FLAG_MAX_DELIVERIES) !== 0 || maxDeliveries === 0) &&
    ((flags & FLAG_DEAD_LETTER_KEY) !== 0 || deadLetterKey === "");
  if (!fieldsAbsentAreZero) throw corrupt("a field marked absent is not empty", at);
  let group: ConsumerGroup;
  try {
    group = new ConsumerGroup({
      name,
      lastDeliveredId,
      entriesRead: (flags & FLAG_ENTRIES_READ) !== 0 ? entriesRead : undefined,
      maxDeliveries: (flags & FLAG_MAX_DELIVERIES) !== 0 ? maxDeliveries : undefined,
      deadLetterKey: (flags & FLAG_DEAD_LETTER_KEY) !== 0 ? deadLetterKey : undefined,
    });
  } catch (cause) {
    throw new LogbookError("LOGBOOK_CORRUPTION", "consumer groups: a group's fields are out of range", { offset: at, cause });
  }
  const countAt = input.offset;
  const consumers = input.u32();
  if (consumers > GROUP_CONSUMERS_MAX) throw corrupt(`more than ${GROUP_CONSUMERS_MAX} consumers`, countAt);
  for (let i = 0; i < consumers; i++) readConsumer(input, group);
  return group;
}

/** The groups `encodeGroups` wrote; LOGBOOK_CORRUPTION for anything else. */
export function decodeGroups(bytes: Uint8Array): ConsumerGroup[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes is a Uint8Array");
  if (bytes.length < GROUPS_HEADER_BYTES + GROUPS_CRC_BYTES) throw corrupt("shorter than a header and a checksum");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - GROUPS_CRC_BYTES;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) throw corrupt("checksum mismatch", end);
  if (view.getUint32(0, true) !== GROUPS_MAGIC) throw corrupt("bad magic", 0);
  if (view.getUint16(4, true) !== GROUPS_FORMAT_VERSION) throw corrupt(`unknown format version ${view.getUint16(4, true)}`, 4);
  if (view.getUint16(6, true) !== 0) throw corrupt("reserved bytes are not 0", 6);
  const count = view.getUint32(8, true);
  const input = new ByteReader(bytes, end);
  const groups: ConsumerGroup[] = [];
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = input.offset;
    const group = readGroup(input);
    if (names.has(group.name)) throw corrupt("a group name appears twice", at);
    names.add(group.name);
    groups.push(group);
  }
  if (!input.done) throw corrupt("bytes after the last group", input.offset);
  return groups;
}
