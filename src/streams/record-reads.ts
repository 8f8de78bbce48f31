/**
 * Reads entry bodies back: from the write-behind buffer when their bytes are not written yet,
 * otherwise from the data files in runs, one read per run of nearby records of one file, and
 * checks each record (header checksum at its position, stream, ID, length, body checksum)
 * before handing its body out.
 */
import { LogbookError } from "../errors.js";
import type { DataFiles } from "./data-files.js";
import { RECORD_HEADER_BYTES, recordMismatch } from "./data-format.js";
import type { StreamId } from "./stream-id.js";
import type { EntryLocations } from "./stream-index.js";
import type { WriteBehind } from "./write-behind.js";

/** Records further apart than this are read with separate reads. */
export const READ_GAP_BYTES_MAX = 64 * 1024;
/** Bytes one read covers at most (a single larger record is read whole). */
export const READ_BYTES_MAX = 4 * 1024 * 1024;

export interface RecordSource {
  readonly files: DataFiles;
  readonly buffer: WriteBehind;
}

/** Records of one file read with one read: indexes into the locations, ascending by position. */
interface Run {
  start: number;
  from: number;
  to: number;
  members: number[];
}

/** The bodies at `locations` (undefined for one whose file is gone), each checked. */
export async function readBodies(
  source: RecordSource,
  stream: number,
  locations: EntryLocations,
): Promise<(Uint8Array | undefined)[]> {
  const count = locations.ids.length;
  const bodies = new Array<Uint8Array | undefined>(count);
  const order = [...Array(count).keys()].sort((a, b) => (locations.positions[a] as number) - (locations.positions[b] as number));
  const onDisk: number[] = [];
  for (const i of order) {
    const position = locations.positions[i] as number;
    const record = source.buffer.read(position, RECORD_HEADER_BYTES + (locations.bodyBytes[i] as number));
    if (record === undefined) onDisk.push(i);
    else
      bodies[i] = checkedBody(
        record,
        0,
        position,
        stream,
        locations.ids[i] as StreamId,
        record.byteLength - RECORD_HEADER_BYTES,
        "memory",
        0,
      );
  }
  for (const run of runsOf(source.files, locations, onDisk)) await readRun(source.files, stream, locations, run, bodies);
  return bodies;
}

function runsOf(files: DataFiles, locations: EntryLocations, members: readonly number[]): Run[] {
  const runs: Run[] = [];
  let run: Run | undefined;
  for (const i of members) {
    const position = locations.positions[i] as number;
    const end = position + RECORD_HEADER_BYTES + (locations.bodyBytes[i] as number);
    const start = files.fileOf(position) as number;
    if (run !== undefined && run.start === start && position - run.to <= READ_GAP_BYTES_MAX && end - run.from <= READ_BYTES_MAX) {
      run.to = Math.max(run.to, end);
      run.members.push(i);
      continue;
    }
    run = { start, from: position, to: end, members: [i] };
    runs.push(run);
  }
  return runs;
}

async function readRun(
  files: DataFiles,
  stream: number,
  locations: EntryLocations,
  run: Run,
  bodies: (Uint8Array | undefined)[],
): Promise<void> {
  const allocated = Buffer.allocUnsafe(run.to - run.from);
  // Bodies are handed out as plain Uint8Array views: cheaper to make than Buffer slices.
  const bytes = new Uint8Array(allocated.buffer, allocated.byteOffset, allocated.byteLength);
  const read = await files.read(run.start, run.from, bytes);
  if (read === undefined) return;
  const file = files.path(run.start);
  if (read < bytes.byteLength) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${file} ends at ${run.from - run.start + read}, inside a stream entry`, {
      file,
      offset: run.from - run.start + read,
    });
  }
  for (const i of run.members) {
    const position = locations.positions[i] as number;
    const id = locations.ids[i] as StreamId;
    bodies[i] = checkedBody(bytes, position - run.from, position, stream, id, locations.bodyBytes[i] as number, file, run.start);
  }
}

/** The body of the record at `at` of `bytes`, which must be the entry `id` of `stream` at `position`. */
function checkedBody(
  bytes: Uint8Array,
  at: number,
  position: number,
  stream: number,
  id: StreamId,
  bodyBytes: number,
  file: string,
  fileStart: number,
): Uint8Array {
  const mismatch = recordMismatch(bytes, at, stream, id, bodyBytes);
  if (mismatch !== undefined) {
    const offset = position - fileStart;
    throw new LogbookError("LOGBOOK_CORRUPTION", `${file} at ${offset}: the stream entry there ${mismatch}`, { file, offset });
  }
  const start = at + RECORD_HEADER_BYTES;
  return bytes.subarray(start, start + bodyBytes);
}
