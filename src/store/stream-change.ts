/**
 * A stream command as the change feed shows it: its kind and its arguments, with IDs printed
 * as `<ms>-<seq>`, names and fields as UTF-8 strings. It is the command as logged, so an add
 * with a generated ID shows `*` and the time it was logged at; the ID it got is in the stream.
 */
import { formatId, type StreamCommand } from "../streams/index.js";
import { internalToKey, type Key, type KeyEncoding } from "./encoding.js";
import { fieldsFromInternal, nameFromInternal } from "./stream-args.js";

export interface StreamChange {
  kind: StreamCommand["kind"];
  /** The command's arguments, JSON-ready. */
  [argument: string]: unknown;
}

const ID_FIELDS = new Set(["minId", "maxDeletedId", "lastId", "from", "start"]);
const NAME_FIELDS = new Set(["group", "consumer", "producerId"]);

function describeValue(name: string, value: unknown, keyEncoding: KeyEncoding): unknown {
  if (name === "fields") return fieldsFromInternal(value as string[]);
  if (name === "bodies") return (value as string[]).length / 2;
  if (name === "ids") return (value as string[]).map(formatId);
  if (name === "deadLetterKey") return internalToKey(value as string, keyEncoding) as Key;
  if (NAME_FIELDS.has(name)) return nameFromInternal(value as string);
  if (ID_FIELDS.has(name) || name === "id") {
    if (value === "$") return "$";
    if (typeof value === "string") return formatId(value);
  }
  if (name === "id" && typeof value === "object" && value !== null) {
    const request = value as { kind: string; ms?: bigint; id?: string };
    if (request.kind === "auto") return "*";
    if (request.kind === "ms") return `${request.ms}-*`;
    return formatId(request.id as string);
  }
  if (name === "trim" && typeof value === "object" && value !== null) {
    const trim = value as { strategy: string; minId: string };
    return { ...trim, minId: formatId(trim.minId) };
  }
  return value;
}

export function describeStreamCommand(command: StreamCommand, keyEncoding: KeyEncoding): StreamChange {
  const described: StreamChange = { kind: command.kind };
  for (const [name, value] of Object.entries(command)) {
    if (name === "kind" || value === undefined) continue;
    described[name === "bodies" ? "deadLetterBodies" : name] = describeValue(name, value, keyEncoding);
  }
  return described;
}
