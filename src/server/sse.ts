/**
 * Server-Sent Events framing for the change feed, and its resumable event IDs. Each change is
 * one event whose `id` is `<lsn>.<index>` (the change's place among its record's operations),
 * so a client that reconnects with `Last-Event-ID: L.i` gets the rest of record L from
 * operation i + 1 on; `Last-Event-ID: L` (or `?from=L+1`) resumes after the whole record L.
 */
import type { Change } from "../store/index.js";
import { HttpError } from "./http-error.js";

/** Where a stream starts: its first LSN, and the operations of that record already delivered. */
export interface FeedStart {
  fromLsn: number | undefined;
  /** Changes of record `fromLsn` with an index up to this were delivered before (-1: none). */
  skipThroughIndex: number;
}

const EVENT_ID = /^([1-9][0-9]{0,15})(?:\.(0|[1-9][0-9]{0,8}))?$/;
const LSN = /^[1-9][0-9]{0,15}$/;

function lsnOf(digits: string, what: string): number {
  const lsn = Number(digits);
  if (!Number.isSafeInteger(lsn)) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${what} is not an LSN`);
  return lsn;
}

/** The start a request asks for: its Last-Event-ID when it has one (a reconnect), else `?from=`. */
export function feedStartOf(lastEventId: string | undefined, from: string | undefined): FeedStart {
  if (lastEventId !== undefined) {
    const match = EVENT_ID.exec(lastEventId.trim());
    if (match === null) {
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "Last-Event-ID must be an id this feed gave out: <lsn> or <lsn>.<index>");
    }
    const lsn = lsnOf(match[1] as string, "Last-Event-ID");
    if (match[2] === undefined) return { fromLsn: lsn + 1, skipThroughIndex: -1 };
    return { fromLsn: lsn, skipThroughIndex: Number(match[2]) };
  }
  if (from !== undefined) {
    if (!LSN.test(from)) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "from must be an LSN (a positive integer)");
    return { fromLsn: lsnOf(from, "from"), skipThroughIndex: -1 };
  }
  return { fromLsn: undefined, skipThroughIndex: -1 };
}

/** One change as an event; `key` is the key as the tenant names it, `value` its JSON text as stored. */
export function changeEvent(change: Change, key: string): string {
  const value = change.type === "put" ? `,"value":${change.value as string}` : "";
  const data = `{"lsn":${change.lsn},"index":${change.index},"key":${JSON.stringify(key)},"type":"${change.type}"${value},"version":${change.version}}`;
  return `id: ${change.lsn}.${change.index}\n${dataLines(data)}\n`;
}

/** The event that ends a stream on an error (the stream had already begun, so no status can say it). */
export function errorEvent(code: string, message: string): string {
  return `event: error\n${dataLines(JSON.stringify({ error: { code, message } }))}\n`;
}

export const HEARTBEAT = ": heartbeat\n\n";

/**
 * A value is stored as its client sent it, and may span lines; an event's data is one `data:`
 * line per line, which the client joins again with line feeds.
 */
function dataLines(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join("");
}
