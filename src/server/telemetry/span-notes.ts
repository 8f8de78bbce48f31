/**
 * A recorded request's spans as plain data. The event loop notes a sampled request while it
 * runs (tracing.ts) and, after it is answered, posts the note to the span export thread
 * (span-export-thread.ts), which makes the SDK's spans from it: the event loop makes no span
 * object, and structured clone copies a few flat objects per request instead of four spans'
 * nested ones. `spanSpecsOf` is the one description of a request's span tree; a live request
 * span under someone else's provider (tracing.ts) is completed from the same description.
 * Times are wall-clock milliseconds: each thread has a performance clock of its own.
 */
import { type Attributes, SpanKind, type SpanStatus, SpanStatusCode } from "@opentelemetry/api";

/** The caller's span context (from its `traceparent`), the trace state as its W3C string. */
export interface ParentNote {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote: boolean | undefined;
  traceState: string | undefined;
}

/** The group commit that made a write durable (or written, under a weaker sync mode). */
export interface CommitNote {
  records: number;
  firstLsn: number;
  lastLsn: number;
  startMs: number;
  endMs: number;
  /** When its fdatasync began; undefined when the commit did not sync. */
  fsyncStartMs: number | undefined;
}

export interface WriteNote {
  operations: number;
  startMs: number;
  endMs: number;
  lsn: number | undefined;
  error: string | undefined;
  commit: CommitNote | undefined;
}

export interface RequestNote {
  traceId: string;
  /** The request span's id: the one its `traceparent` answer named. */
  spanId: string;
  parent: ParentNote | undefined;
  method: string;
  route: string;
  /** Set for a Redis command (its name, lower case); `method`, `route` and `status` are then unused. */
  command?: string;
  /** A Redis command's error reply's prefix, when it answered one. */
  error?: string | undefined;
  startMs: number;
  endMs: number;
  status: number;
  tenantId: string | undefined;
  write: WriteNote | undefined;
}

/** One span of a request's tree; `parent` indexes the list (-1: the request span's own parent). */
export interface SpanSpec {
  name: string;
  kind: SpanKind;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  status: SpanStatus;
  parent: number;
}

/** The request span's name and the attributes it starts with (a sampler sees both). */
export function requestSpanName(method: string, route: string): string {
  return `${method} ${route}`;
}

export function requestAttributes(method: string, route: string): Attributes {
  return { "http.request.method": method, "http.route": route };
}

/** A Redis command's span name: the command, as Redis's OpenTelemetry conventions name it. */
export function commandSpanName(command: string): string {
  return command.toUpperCase();
}

export function commandAttributes(command: string): Attributes {
  return { "db.system": "redis", "db.operation.name": commandSpanName(command) };
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

function requestSpec(note: RequestNote): SpanSpec {
  const attributes = requestAttributes(note.method, note.route);
  attributes["http.response.status_code"] = note.status;
  if (note.tenantId !== undefined) attributes["logbook.tenant"] = note.tenantId;
  return {
    name: requestSpanName(note.method, note.route),
    kind: SpanKind.SERVER,
    startMs: note.startMs,
    endMs: note.endMs,
    attributes,
    status: note.status >= 500 ? { code: SpanStatusCode.ERROR } : UNSET,
    parent: -1,
  };
}

/** A Redis command's span: an error reply marks it failed, with the reply's prefix as its status code. */
function commandSpec(note: RequestNote, command: string): SpanSpec {
  const attributes = commandAttributes(command);
  if (note.tenantId !== undefined) attributes["logbook.tenant"] = note.tenantId;
  if (note.error !== undefined) attributes["db.response.status_code"] = note.error;
  return {
    name: commandSpanName(command),
    kind: SpanKind.SERVER,
    startMs: note.startMs,
    endMs: note.endMs,
    attributes,
    status: note.error === undefined ? UNSET : { code: SpanStatusCode.ERROR, message: note.error },
    parent: -1,
  };
}

/**
 * The request (SERVER), its store write, and under the write the group commit it joined (with
 * its batch size) and that commit's fdatasync; the request span first, each span after its parent.
 */
export function spanSpecsOf(note: RequestNote): SpanSpec[] {
  const specs: SpanSpec[] = [note.command === undefined ? requestSpec(note) : commandSpec(note, note.command)];
  const write = note.write;
  if (write === undefined) return specs;
  const writeAttributes: Attributes = { "logbook.operations": write.operations };
  if (write.lsn !== undefined) writeAttributes["logbook.lsn"] = write.lsn;
  specs.push({
    name: "logbook.store.write",
    kind: SpanKind.INTERNAL,
    startMs: write.startMs,
    endMs: write.endMs,
    attributes: writeAttributes,
    status: write.error === undefined ? UNSET : { code: SpanStatusCode.ERROR, message: write.error },
    parent: 0,
  });
  const commit = write.commit;
  if (commit === undefined) return specs;
  specs.push({
    name: "logbook.log.group_commit",
    kind: SpanKind.INTERNAL,
    startMs: commit.startMs,
    endMs: commit.endMs,
    attributes: {
      "logbook.commit.records": commit.records,
      "logbook.commit.first_lsn": commit.firstLsn,
      "logbook.commit.last_lsn": commit.lastLsn,
    },
    status: UNSET,
    parent: 1,
  });
  if (commit.fsyncStartMs !== undefined) {
    specs.push({
      name: "logbook.log.fsync",
      kind: SpanKind.INTERNAL,
      startMs: commit.fsyncStartMs,
      endMs: commit.endMs,
      attributes: {},
      status: UNSET,
      parent: 2,
    });
  }
  return specs;
}
