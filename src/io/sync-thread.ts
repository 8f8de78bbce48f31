/**
 * A dedicated writer thread for the commit path. Each group commit is one `pwrite` plus one
 * `fdatasync`; issued through libuv's pool that costs two pool round trips (~55 µs each here),
 * which is a third of an fsync on this disk. This thread does both syscalls back to back and
 * is woken and answered through a SharedArrayBuffer with Atomics, so the event loop never
 * blocks and never waits on the pool. (bench/flush-paths.ts measures the alternatives.)
 *
 * One operation is in flight at a time; the caller serialises them. Data is written straight
 * from the caller's buffer when it lives in a SharedArrayBuffer (registered with the thread
 * once), otherwise it is copied into a staging buffer first.
 */
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { assert } from "../assert.js";

// Control words (Int32Array indices).
const REQUEST_SEQ = 0;
const DONE_SEQ = 1;
const FD = 2;
const LENGTH = 3;
const POSITION_LOW = 4;
const POSITION_HIGH = 5;
const FLAGS = 6;
const ERROR_LENGTH = 7;
const BUFFER_ID = 8;
const BUFFER_OFFSET = 9;
const STOP = 10;
const CONTROL_WORDS = 16;
const ERROR_TEXT_OFFSET_BYTES = CONTROL_WORDS * 4;
const ERROR_TEXT_BYTES = 256;
const FLAG_DATASYNC = 1;
const STAGING_BYTES_MIN = 64 * 1024;
const TWO_POW_32 = 2 ** 32;

// Plain CommonJS, run with `eval: true` so the same code works from src (tsx) and dist.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const fs = require("node:fs");
const control = new Int32Array(workerData.control);
const errorText = new Uint8Array(workerData.control, ${ERROR_TEXT_OFFSET_BYTES}, ${ERROR_TEXT_BYTES});
const port = workerData.port;
const buffers = new Map();
let seen = 0;
for (;;) {
  Atomics.wait(control, ${REQUEST_SEQ}, seen);
  if (Atomics.load(control, ${STOP}) === 1) break;
  const seq = Atomics.load(control, ${REQUEST_SEQ});
  if (seq === seen) continue;
  seen = seq;
  let errorLength = 0;
  try {
    const id = control[${BUFFER_ID}];
    while (!buffers.has(id)) {
      const message = receiveMessageOnPort(port);
      if (message === undefined) throw new Error("buffer " + id + " was never registered");
      buffers.set(message.message.id, Buffer.from(message.message.buffer));
    }
    const buffer = buffers.get(id);
    const fd = control[${FD}];
    let offset = control[${BUFFER_OFFSET}];
    let remaining = control[${LENGTH}];
    let position = control[${POSITION_HIGH}] * ${TWO_POW_32} + (control[${POSITION_LOW}] >>> 0);
    while (remaining > 0) {
      const written = fs.writeSync(fd, buffer, offset, remaining, position);
      offset += written; position += written; remaining -= written;
    }
    if (control[${FLAGS}] & ${FLAG_DATASYNC}) fs.fdatasyncSync(fd);
  } catch (error) {
    const text = JSON.stringify({ code: error.code, syscall: error.syscall, message: error.message });
    const bytes = Buffer.from(text).subarray(0, ${ERROR_TEXT_BYTES});
    errorText.set(bytes);
    errorLength = bytes.length;
  }
  control[${ERROR_LENGTH}] = errorLength;
  Atomics.store(control, ${DONE_SEQ}, seen);
  Atomics.notify(control, ${DONE_SEQ});
}
`;

export class SyncThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(ERROR_TEXT_OFFSET_BYTES + ERROR_TEXT_BYTES));
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly bufferIds = new WeakMap<SharedArrayBuffer, number>();
  private nextBufferId = 1;
  private staging: Uint8Array = new Uint8Array(0);
  private sequence = 0;
  private busy = false;
  private closed = false;

  constructor() {
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control: this.control.buffer, port: channel.port2 },
      transferList: [channel.port2],
    });
    // An idle writer thread must not keep the process alive; it is ref'd while work is in flight.
    this.worker.unref();
    this.worker.on("error", () => {
      // Only reachable on a bug in WORKER_SOURCE; every operation error is reported in-band.
    });
  }

  /** Writes `data` at `position` of `fd`, then fdatasyncs it when asked, on the writer thread. */
  async write(fd: number, data: Uint8Array, position: number, datasync: boolean): Promise<void> {
    assert(!this.busy, "one sync-thread operation at a time");
    assert(!this.closed, "sync thread is open");
    assert(Number.isSafeInteger(position) && position >= 0, "position is a safe non-negative integer");
    this.busy = true;
    try {
      const { id, offset } = this.locate(data);
      const control = this.control;
      control[FD] = fd;
      control[LENGTH] = data.byteLength;
      control[POSITION_LOW] = position % TWO_POW_32;
      control[POSITION_HIGH] = Math.floor(position / TWO_POW_32);
      control[FLAGS] = datasync ? FLAG_DATASYNC : 0;
      control[BUFFER_ID] = id;
      control[BUFFER_OFFSET] = offset;
      const sequence = ++this.sequence;
      this.worker.ref();
      Atomics.store(control, REQUEST_SEQ, sequence);
      Atomics.notify(control, REQUEST_SEQ);
      const wait = Atomics.waitAsync(control, DONE_SEQ, sequence - 1);
      if (wait.async) await wait.value;
      this.worker.unref();
      assert(Atomics.load(control, DONE_SEQ) === sequence, "writer thread answered this request");
      const errorLength = control[ERROR_LENGTH] ?? 0;
      if (errorLength > 0) throw this.decodeError(errorLength);
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, REQUEST_SEQ, 1);
    Atomics.notify(this.control, REQUEST_SEQ);
    this.port.close();
    await this.worker.terminate();
  }

  private locate(data: Uint8Array): { id: number; offset: number } {
    if (data.buffer instanceof SharedArrayBuffer) {
      return { id: this.register(data.buffer), offset: data.byteOffset };
    }
    if (this.staging.byteLength < data.byteLength) {
      this.staging = new Uint8Array(new SharedArrayBuffer(Math.max(STAGING_BYTES_MIN, data.byteLength * 2)));
    }
    this.staging.set(data);
    return { id: this.register(this.staging.buffer as SharedArrayBuffer), offset: 0 };
  }

  private register(buffer: SharedArrayBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
      this.port.postMessage({ id, buffer });
    }
    return id;
  }

  private decodeError(errorLength: number): Error {
    const bytes = new Uint8Array(this.control.buffer, ERROR_TEXT_OFFSET_BYTES, errorLength);
    const parsed = JSON.parse(Buffer.from(bytes).toString()) as { code?: string; syscall?: string; message: string };
    const error = new Error(parsed.message) as NodeJS.ErrnoException;
    if (parsed.code !== undefined) error.code = parsed.code;
    if (parsed.syscall !== undefined) error.syscall = parsed.syscall;
    return error;
  }
}
