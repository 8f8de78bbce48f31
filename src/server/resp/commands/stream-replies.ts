/**
 * The reply shapes of the stream commands (RESP2), as Redis 7.0 writes them: an entry is
 * `[id, [field, value, …]]` (a nil array for a pending entry no longer in the stream), a read
 * is `[[key, [entry, …]], …]`, and XINFO's maps are flat arrays of name/value pairs.
 */
import type { StreamEntry } from "../../../store/index.js";
import { bulk, integer, NIL, NIL_ARRAY, type Reply } from "../reply.js";

export function entryReply(entry: StreamEntry): Reply {
  const fields = entry.fields;
  if (fields === null) return `*2\r\n${bulk(entry.id)}${NIL_ARRAY}`;
  let out = `*2\r\n${bulk(entry.id)}*${fields.length * 2}\r\n`;
  for (const [name, value] of fields) out += `$${name.length}\r\n${name}\r\n$${value.length}\r\n${value}\r\n`;
  return out;
}

export function entriesReply(entries: readonly StreamEntry[]): Reply {
  let out = `*${entries.length}\r\n`;
  for (const entry of entries) out += entryReply(entry);
  return out;
}

/** One stream's part of an XREAD/XREADGROUP reply: its key as the client named it, and its entries. */
export function streamPartReply(key: string, entries: readonly StreamEntry[]): Reply {
  return `*2\r\n${bulk(key)}${entriesReply(entries)}`;
}

export function entryOrNil(entry: StreamEntry | null): Reply {
  return entry === null ? NIL : entryReply(entry);
}

export function integerOrNil(value: number | null): Reply {
  return value === null ? NIL : integer(value);
}

/** A map as RESP2 shows it: a flat array of name (bulk) and value (already encoded) pairs. */
export function mapReply(pairs: readonly (readonly [string, Reply])[]): Reply {
  let out = `*${pairs.length * 2}\r\n`;
  for (const [name, value] of pairs) out += bulk(name) + value;
  return out;
}
