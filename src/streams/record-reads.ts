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

/** Bodies read back: body i is bytes [starts[i], starts[i] + bodyBytes[i]) of buffers[i]; undefined when its file is gone. */
export interface BodyBuffers {
  buffers: (Buffer | undefined)[];
  starts: number[];
}

/** The bodies at `locations` (undefined for one whose file is gone), each checked. */
export async function readBodies(
  source: RecordSource,
  stream: number,
  locations: EntryLocations,
): Promise<(Uint8Array | undefined)[]> {
  const { buffers, starts } = await readBodyBuffers(source, stream, locations);
  return buffers.map((buffer, i) => {
    if (buffer === undefined) return undefined;
    const start = starts[i] as number;
    // Plain Uint8Array views: cheaper to make than Buffer slices.
    return new Uint8Array(buffer.buffer, buffer.byteOffset + start, locations.bodyBytes[i] as number);
  });
}

/** Whether the locations ascend by position (a forward scan's do): they need no sorting. */
function ascending(positions: readonly number[]): boolean {
  for (let i = 1; i < positions.length; i++) if ((positions[i] as number) < (positions[i - 1] as number)) return false;
  return true;
}

/** The bodies at `locations`, each checked, where they were read to: no copy and no view per body. */
export async function readBodyBuffers(source: RecordSource, stream: number, locations: EntryLocations): Promise<BodyBuffers> {
  const count = locations.ids.length;
  const read: BodyBuffers = {
    buffers: new Array<Buffer | undefined>(count).fill(undefined),
    starts: new Array<number>(count).fill(0),
  };
  const order = [...Array(count).keys()];
  if (!ascending(locations.positions)) {
    order.sort((a, b) => (locations.positions[a] as number) - (locations.positions[b] as number));
  }
  const onDisk: number[] = [];
  for (const i of order) {
    const position = locations.positions[i] as number;
    if (position < source.buffer.writtenPosition) {
      onDisk.push(i);
      continue;
    }
    const record = source.buffer.read(position, RECORD_HEADER_BYTES + (locations.bodyBytes[i] as number));
    if (record === undefined) {
      onDisk.push(i);
      continue;
    }
    const bodyBytes = record.byteLength - RECORD_HEADER_BYTES;
    checkRecord(record, 0, position, stream, locations.ids[i] as StreamId, bodyBytes, "memory", 0);
    read.buffers[i] = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
    read.starts[i] = RECORD_HEADER_BYTES;
  }
  for (const run of runsOf(source.files, locations, onDisk)) await readRun(source.files, stream, locations, run, read);
  return read;
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

async function readRun(files: DataFiles, stream: number, locations: EntryLocations, run: Run, into: BodyBuffers): Promise<void> {
  const bytes = Buffer.allocUnsafe(run.to - run.from);
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
    const at = position - run.from;
    checkRecord(bytes, at, position, stream, locations.ids[i] as StreamId, locations.bodyBytes[i] as number, file, run.start);
    into.buffers[i] = bytes;
    into.starts[i] = at + RECORD_HEADER_BYTES;
  }
}

/** Checks that the record at `at` of `bytes` is the entry `id` of `stream` at `position`, intact. */
function checkRecord(
  bytes: Uint8Array,
  at: number,
  position: number,
  stream: number,
  id: StreamId,
  bodyBytes: number,
  file: string,
  fileStart: number,
): void {
  const mismatch = recordMismatch(bytes, at, stream, id, bodyBytes);
  if (mismatch !== undefined) {
    const offset = position - fileStart;
    throw new LogbookError("LOGBOOK_CORRUPTION", `${file} at ${offset}: the stream entry there ${mismatch}`, { file, offset });
  }
}
