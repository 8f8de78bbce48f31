/**
 * The memory shared between the appenders (main thread) and the committer (a writer thread,
 * or an async loop on the main thread for file systems without a descriptor, such as the
 * simulated disk). Appenders encode records into the ring and publish them as groups; the
 * committer takes every group published when it is free, frames them, writes the frame and
 * fdatasyncs it, and publishes how far it got. So the batch of a group commit is simply what
 * was published while the previous fsync ran, and the committer never waits on the event
 * loop: its next write starts as soon as its last fsync returns.
 *
 * A group is what one `append`/`appendBatch` call encoded: contiguous in the ring, never
 * split across frames (that is what makes appendBatch atomic).
 *
 * Counters are Int32 sequence numbers that wrap; only their differences matter. LSNs are
 * 64-bit words, each read and written whole: an LSN read in two 32-bit halves while the other
 * thread writes it can mix its old and new halves, which past 2^32 is billions away from both.
 */
import { assert } from "../assert.js";
import { TWO_POW_32 } from "./format.js";

/** Control words (indices into `control`). */
export const Control = {
  /** Groups published by the appenders. */
  published: 0,
  /** Groups written to the OS by the committer. */
  written: 1,
  /** Groups made durable by the committer. */
  durable: 2,
  /** Bumped by the committer after every change the appenders must see; they wait on it. */
  event: 3,
  /** 1 while the committer is about to sleep or sleeps on `wake`. */
  idle: 4,
  /** Set by the appenders: `Command.*`. */
  command: 5,
  /** The committer's state: `CommitterState.*`. */
  state: 6,
  /** The file descriptor of the active segment (thread mode). */
  fd: 7,
  /** Write position in the active segment (a u32: segments stay far below 4 GiB). */
  position: 8,
  segmentBytes: 9,
  /** First LSN of the frame that did not fit, when state is `needsSegment` (an LSN word: words 10-11). */
  rotateLsnLow: 10,
  /** Who is committing: `Owner.*`. Only the owner writes frames (see Committer.commitHere). */
  owner: 12,
  /** Length of the error text when state is `failed`. */
  errorBytes: 13,
  /** Bumped by the appenders to wake an idle committer (it sleeps on this word). */
  wake: 14,
  /** Last LSN written and last LSN durable (LSN words: words 16-17 and 18-19). */
  writtenLsnLow: 16,
  durableLsnLow: 18,
  /** The active segment's frame seed (segment-header.ts), as an Int32; set with `fd` at each rotation. */
  frameSeed: 20,
} as const;
export const CONTROL_WORDS = 24;

/** The control words that start an LSN word: each is 8-byte aligned and its next word is its own. */
const LSN_WORDS: readonly number[] = [Control.rotateLsnLow, Control.writtenLsnLow, Control.durableLsnLow];
const CONTROL_INDICES: readonly number[] = Object.values(Control);
for (const index of LSN_WORDS) {
  assert(index % 2 === 0, "an LSN word is 8-byte aligned");
  assert(index + 1 < CONTROL_WORDS, "an LSN word lies inside the control block");
  assert(!CONTROL_INDICES.includes(index + 1), "an LSN word's second half is no other control word");
}

export const Command = { none: 0, sync: 1, stop: 2 } as const;
export const Owner = { none: 0, thread: 1, appenders: 2 } as const;
export const CommitterState = { running: 0, needsSegment: 1, failed: 2, stopped: 3 } as const;

/** Statistics the committer keeps (Float64, read without locking: approximate by design). */
export const Stat = {
  frames: 0,
  fsyncs: 1,
  records: 2,
  frameBytes: 3,
  commitMsTotal: 4,
  commitMsMax: 5,
  lastCommitMs: 6,
  lastFsyncMs: 7,
  /** Frames the event loop committed itself (commitOnEventLoop). */
  framesOnEventLoop: 8,
} as const;
export const STAT_WORDS = 9;

export const ERROR_TEXT_BYTES = 512;
/** Groups that may be published but not yet committed; appends beyond wait in memory. */
export const GROUP_SLOTS = 1 << 16;

export interface CommitRingBuffers {
  control: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  /** Start offset, end offset and record count of each group slot. */
  groups: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  errorText: SharedArrayBuffer;
}

export class CommitRing {
  readonly control: Int32Array;
  /** The control words seen two by two, for the LSN words (Atomics on a BigInt64Array are whole). */
  private readonly lsnWords: BigInt64Array;
  readonly stats: Float64Array;
  readonly groups: Int32Array;
  readonly ring: Uint8Array;
  readonly ringView: DataView;
  readonly errorText: Uint8Array;

  constructor(readonly buffers: CommitRingBuffers) {
    this.control = new Int32Array(buffers.control);
    this.lsnWords = new BigInt64Array(buffers.control);
    this.stats = new Float64Array(buffers.stats);
    this.groups = new Int32Array(buffers.groups);
    this.ring = new Uint8Array(buffers.ring);
    this.ringView = new DataView(buffers.ring);
    this.errorText = new Uint8Array(buffers.errorText);
    assert(this.groups.length === GROUP_SLOTS * 3, "three words per group slot");
  }

  static create(ringBytes: number): CommitRing {
    return new CommitRing({
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      stats: new SharedArrayBuffer(STAT_WORDS * 8),
      groups: new SharedArrayBuffer(GROUP_SLOTS * 3 * 4),
      ring: new SharedArrayBuffer(ringBytes),
      errorText: new SharedArrayBuffer(ERROR_TEXT_BYTES),
    });
  }

  get ringBytes(): number {
    return this.ring.byteLength;
  }

  static slot(sequence: number): number {
    return (sequence & (GROUP_SLOTS - 1)) * 3;
  }

  readPosition(): number {
    return Atomics.load(this.control, Control.position) >>> 0;
  }

  writePosition(position: number): void {
    assert(position >= 0 && position < TWO_POW_32, "segment positions fit in 32 bits");
    Atomics.store(this.control, Control.position, position | 0);
  }

  /** The LSN word starting at control word `lowIndex` (`Control.writtenLsnLow`, ...), read whole. */
  readLsn(lowIndex: number): number {
    return Number(Atomics.load(this.lsnWords, lowIndex >> 1));
  }

  /** Writes the LSN word starting at control word `lowIndex` whole: no reader sees half of it. */
  writeLsn(lowIndex: number, lsn: number): void {
    assert(Number.isSafeInteger(lsn) && lsn >= 0, "an LSN is a non-negative safe integer");
    Atomics.store(this.lsnWords, lowIndex >> 1, BigInt(lsn));
  }

  /**
   * Wakes the committer if it is idle. Race-free with its sleep: it sets `idle` before reading
   * `wake` and re-checking its work, and the appenders change its work before reading `idle`.
   */
  wakeCommitter(): void {
    // Clearing `idle` here, not only when the thread is up again, makes the appends published
    // while it wakes skip the notify, a futex call each (bench/store.ts at high concurrency). A
    // committer about to sleep re-reads `idle` (and its work) after reading `wake`, so a wake
    // claimed here is never slept through (committer.ts, run).
    if (Atomics.compareExchange(this.control, Control.idle, 1, 0) !== 1) return;
    Atomics.add(this.control, Control.wake, 1);
    Atomics.notify(this.control, Control.wake);
  }

  /** Publishes an event to the appenders and wakes them. */
  bumpEvent(): void {
    Atomics.add(this.control, Control.event, 1);
    Atomics.notify(this.control, Control.event);
  }

  setError(message: string): void {
    const bytes = new TextEncoder().encode(message).subarray(0, ERROR_TEXT_BYTES);
    this.errorText.set(bytes);
    Atomics.store(this.control, Control.errorBytes, bytes.length);
  }

  readError(): string {
    const length = Atomics.load(this.control, Control.errorBytes);
    return new TextDecoder().decode(this.errorText.slice(0, length));
  }
}
