/**
 * The appenders' side of group commit. An append encodes its records straight into the
 * shared ring and publishes them as one group; the committer (committer.ts, on the writer
 * thread) takes whatever was published when it is free and commits it as one frame with one
 * write and one fdatasync. This side then learns how far the committer got and resolves the
 * appenders in LSN order. So batches form by themselves while an fsync is in flight, with no
 * timer. At low concurrency, where the event loop would only wait through the fsync, it makes
 * the commit itself with the same committer code (commitOnEventLoop, see wakeNow); a lock in
 * the control words lets exactly one of the two write at a time.
 *
 * This side also serves the committer's requests (a new segment) and owns fail-stop: after
 * any write or sync error, every pending and later append rejects and nothing more is written.
 */
import type { Worker } from "node:worker_threads";
import { assert } from "../assert.js";
import { errnoCode, LogbookError } from "../errors.js";
import type { Timer } from "../io/clock.js";
import { startWorker } from "../start-worker.js";
import { Command, CommitRing, CommitterState, Control, GROUP_SLOTS, Owner, Stat } from "./commit-ring.js";
import { Committer, type CommitterIo, descriptorIo } from "./committer.js";
import type { CommitInfo, PayloadSource, WaitLevel } from "./contract.js";
import { FRAME_HEADER_BYTES, LSN_MAX, RECORD_HEADER_BYTES, recordBytes, SEGMENT_HEADER_BYTES } from "./format.js";
import type { ResolvedLogOptions } from "./options.js";
import { PendingGroups } from "./pending-groups.js";

/** Event-loop turns the main-thread committer polls before it sleeps (see inlineIo). */
const INLINE_SPIN_TURNS = 64;

import { encodeUnsealedRecord, encodeUnsealedRecordHeader } from "./record.js";
import type { SegmentSet } from "./segments.js";

export interface WriterHooks {
  onCommit(info: CommitInfo): void;
  onDurable(durableLsn: number): void;
  onFailure(error: LogbookError): void;
}

export interface WriterStats {
  appends: number;
  records: number;
  recordBytes: number;
  commits: number;
  commitsOnEventLoop: number;
  fsyncs: number;
  commitMsTotal: number;
  commitMsMax: number;
  pendingBytes: number;
}

interface Overflow {
  payloads: readonly Uint8Array[];
  bytes: number;
  firstLsn: number;
  resolve: (firstLsn: number) => void;
  reject: (error: unknown) => void;
}

interface Waiter {
  lsn: number;
  level: WaitLevel;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const RING_BYTES_MIN = 1024 * 1024;
/**
 * Split a burst into two commits once its JavaScript outweighs a commit. Measured: at 1.5 the
 * log's c=256 fell from ~0.7 M to ~0.57 M records/s, and the store's c=16 did not gain
 * beyond the noise (~50-66 k puts/s either way).
 */
const SPLIT_WHEN_JS_OVER_COMMIT = 1;
/** Weight of a new sample in the moving averages that plan wake-ups. */
const EWMA_WEIGHT = 0.2;

/** Starts the writer thread (commit-thread.ts). */
function startCommitThread(workerData: unknown): Worker {
  return startWorker(import.meta.url, "commit-thread", workerData);
}

/** The settlement of a group sequenced without a promise (see sequenceDetached). */
function ignore(): void {}

function nextPowerOfTwo(value: number): number {
  return 2 ** Math.ceil(Math.log2(value));
}

/** A simple FIFO over an array, without Array#shift's copying. */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  drain(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}

export class GroupCommitWriter {
  /** The next LSN to hand out. */
  nextLsn: number;
  writtenLsn: number;
  durableLsn: number;
  failure: LogbookError | undefined;
  private readonly ring: CommitRing;
  private readonly pending = new PendingGroups();
  private readonly overflow = new Queue<Overflow>();
  private waiters: Waiter[] = [];
  private readonly counters = { appends: 0, records: 0, recordBytes: 0, pendingBytes: 0 };
  private readonly acknowledgeWhen: number;
  private ringHead = 0;
  /** LSN of the next record to publish (behind `nextLsn` while appends wait in overflow). */
  private publishedNextLsn: number;
  private published = 0;
  private acknowledged = 0;
  private eventSeen = 0;
  private watching = false;
  private wakeScheduled = false;
  /** Groups published since the last acknowledgement, and how many of them wake the committer at once. */
  private publishedSinceAck = 0;
  private wakeAtGroups = 1;
  /** Whether the committer starts before a burst has all appended (see planWake). */
  private splitting = false;
  private commitMsEwma = 0.1;
  private jsMsPerGroupEwma = 0.001;
  private measuringJs = false;
  private acknowledgedAtMs = 0;
  private acknowledgedGroups = 1;
  private rotating = false;
  private closing = false;
  private stopped: (() => void) | undefined;
  private readonly worker: Worker | undefined;
  /** Whether the worker keeps the process alive (ref), so that watch() need not call into it per append. */
  private workerHeld = false;
  /** Commits on the event loop when the writer thread would only add two hand-offs (see wakeNow). */
  private readonly committerHere: Committer | undefined;
  private readonly inline: Promise<void> | undefined;
  private timer: Timer | undefined;

  constructor(
    private readonly segments: SegmentSet,
    private readonly options: ResolvedLogOptions,
    nextLsn: number,
    writePosition: number,
    private readonly hooks: WriterHooks,
  ) {
    this.nextLsn = nextLsn;
    this.publishedNextLsn = nextLsn;
    this.writtenLsn = nextLsn - 1;
    this.durableLsn = nextLsn - 1;
    this.acknowledgeWhen = options.sync === "always" ? Control.durable : Control.written;
    const ring = CommitRing.create(nextPowerOfTwo(Math.max(RING_BYTES_MIN, 4 * options.batchBytesMax)));
    this.ring = ring;
    const control = ring.control;
    Atomics.store(control, Control.state, CommitterState.running);
    Atomics.store(control, Control.segmentBytes, options.segmentBytes);
    Atomics.store(control, Control.fd, segments.handle.descriptor ?? -1);
    Atomics.store(control, Control.frameSeed, segments.activeFrameSeed | 0);
    ring.writePosition(writePosition);
    ring.writeLsn(Control.writtenLsnLow, nextLsn - 1);
    ring.writeLsn(Control.durableLsnLow, nextLsn - 1);
    const config = { sync: options.sync, batchBytesMax: options.batchBytesMax };
    if (segments.handle.descriptor !== undefined) {
      this.worker = startCommitThread({ buffers: ring.buffers, config });
      this.worker.unref();
      this.worker.on("error", (error) => this.fail(error));
      if (options.commitOnEventLoop) {
        const neverWaits = () => {
          throw new Error("a committer on the event loop never waits");
        };
        this.committerHere = new Committer(ring, descriptorIo(control, neverWaits), config, Owner.appenders);
      }
    } else {
      this.inline = new Committer(ring, this.inlineIo(), config).run();
    }
    if (options.sync === "interval") {
      this.timer = options.clock.every(options.syncIntervalMs, () => this.requestSync());
    }
  }

  get lastLsn(): number {
    return this.nextLsn - 1;
  }

  /** The LSN up to which appends have been acknowledged under the sync mode. */
  get committedLsn(): number {
    return this.options.sync === "always" ? this.durableLsn : this.writtenLsn;
  }

  get recordBytes(): number {
    return this.counters.recordBytes;
  }

  get stats(): WriterStats {
    const s = this.ring.stats;
    return {
      ...this.counters,
      commits: s[Stat.frames] ?? 0,
      commitsOnEventLoop: s[Stat.framesOnEventLoop] ?? 0,
      fsyncs: s[Stat.fsyncs] ?? 0,
      commitMsTotal: s[Stat.commitMsTotal] ?? 0,
      commitMsMax: s[Stat.commitMsMax] ?? 0,
    };
  }

  /**
   * Sequences `payloads` as one group (all in one frame: atomic): their LSNs are assigned now,
   * in call order, and `committed` resolves once the group is acknowledged. Throws, without
   * sequencing anything, when the log has failed or is closed, the group is too large, or too
   * much is waiting.
   */
  sequence(payloads: readonly Uint8Array[]): { firstLsn: number; committed: Promise<number> } {
    const bytes = this.admit(payloads);
    const firstLsn = this.nextLsn;
    this.nextLsn += payloads.length;
    const committed = new Promise<number>((resolve, reject) => this.enqueue(payloads, bytes, firstLsn, resolve, reject));
    return { firstLsn, committed };
  }

  /**
   * The same without a promise: the group's acknowledgement is seen through `hooks.onCommit`
   * (its lastLsn) and a failure through `hooks.onFailure`. For a layer that applies its
   * writes in LSN order once per commit anyway (the store): a promise per write it never
   * awaits was a tenth of its CPU per put at c = 256.
   */
  sequenceDetached(payloads: readonly Uint8Array[]): number {
    const bytes = this.admit(payloads);
    const firstLsn = this.nextLsn;
    this.nextLsn += payloads.length;
    this.enqueue(payloads, bytes, firstLsn, ignore, ignore);
    return firstLsn;
  }

  /**
   * Sequences one record, detached as `sequenceDetached`, whose payload `source` writes straight
   * into the ring: no Uint8Array per record, no copy (while the ring is full it waits in one of
   * its own, like any append). The payload is written before anything is counted or an LSN
   * taken, so a writer that throws leaves the log as it was.
   */
  sequenceEncoded(source: PayloadSource): number {
    const payloadBytes = source.payloadBytes;
    const bytes = recordBytes(payloadBytes);
    this.checkAdmission(bytes, 1);
    const lsn = this.nextLsn;
    const start = this.overflow.length === 0 ? this.reserve(bytes, lsn) : -1;
    let waiting: Uint8Array | undefined;
    if (start >= 0) {
      const ring = this.ring;
      encodeUnsealedRecordHeader(ring.ring, ring.ringView, start, lsn, payloadBytes);
      source.writePayload(ring.ring, start + RECORD_HEADER_BYTES);
    } else {
      waiting = new Uint8Array(payloadBytes);
      source.writePayload(waiting, 0);
    }
    this.countAdmission(bytes);
    this.nextLsn = lsn + 1;
    if (waiting === undefined) this.publishGroup(start, start + bytes, 1, lsn, ignore, ignore);
    else this.enqueue([waiting], bytes, lsn, ignore, ignore);
    return lsn;
  }

  /** Checks that a group may be sequenced now and counts it; returns its bytes in the log. */
  private admit(payloads: readonly Uint8Array[]): number {
    let bytes = 0;
    for (const payload of payloads) bytes += recordBytes(payload.byteLength);
    this.checkAdmission(bytes, payloads.length);
    this.countAdmission(bytes);
    return bytes;
  }

  /** Throws when a group of `records` taking `bytes` in the log may not be sequenced now. */
  private checkAdmission(bytes: number, records: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closing) throw new LogbookError("LOGBOOK_CLOSED", "the log is closed");
    if (FRAME_HEADER_BYTES + bytes > this.options.batchBytesMax) {
      throw new LogbookError(
        "LOGBOOK_RECORD_TOO_LARGE",
        `${records === 1 ? "record" : "batch"} of ${bytes} bytes exceeds batchBytesMax ${this.options.batchBytesMax}`,
      );
    }
    if (this.counters.pendingBytes + bytes > this.options.pendingBytesMax) {
      throw new LogbookError(
        "LOGBOOK_OVERLOADED",
        `${this.counters.pendingBytes} bytes are waiting to be written; pendingBytesMax is ${this.options.pendingBytesMax}`,
      );
    }
    if (this.nextLsn + records > LSN_MAX) throw new LogbookError("LOGBOOK_INVALID_LSN", "LSNs are exhausted");
  }

  private countAdmission(bytes: number): void {
    this.counters.appends++;
    this.counters.pendingBytes += bytes;
  }

  private enqueue(
    payloads: readonly Uint8Array[],
    bytes: number,
    firstLsn: number,
    resolve: (firstLsn: number) => void,
    reject: (error: unknown) => void,
  ): void {
    // Appends wait in memory, in order, while the ring is full; their LSNs are already theirs.
    if (this.overflow.length > 0 || !this.publish(payloads, bytes, firstLsn, resolve, reject)) {
      this.overflow.push({ payloads, bytes, firstLsn, resolve, reject });
      this.watch();
    }
  }

  append(payloads: readonly Uint8Array[]): Promise<number> {
    try {
      return this.sequence(payloads).committed;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  waitFor(lsn: number, level: WaitLevel): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if ((level === "durable" ? this.durableLsn : this.writtenLsn) >= lsn) return Promise.resolve();
    if (lsn > this.lastLsn) {
      return Promise.reject(new LogbookError("LOGBOOK_INVALID_LSN", `LSN ${lsn} has not been appended`, { lsn }));
    }
    const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ lsn, level, resolve, reject }));
    if (level === "durable") this.requestSync();
    this.watch();
    return waiting;
  }

  requestSync(): void {
    if (this.failure !== undefined || this.options.sync === "always") return;
    Atomics.store(this.ring.control, Control.command, Command.sync);
    this.ring.wakeCommitter();
    this.watch();
  }

  /** Commits everything appended so far, makes it durable, stops the committer. */
  async close(): Promise<void> {
    this.closing = true;
    this.timer?.cancel();
    if (this.failure === undefined) {
      const target = this.lastLsn;
      if (target > this.durableLsn) await this.waitFor(target, "durable").catch(() => undefined);
    }
    if (this.failure === undefined) {
      const stopped = new Promise<void>((resolve) => {
        this.stopped = resolve;
      });
      Atomics.store(this.ring.control, Control.command, Command.stop);
      this.ring.wakeCommitter();
      this.watch();
      await stopped;
    }
    this.holdWorker(true);
    await this.worker?.terminate();
    await this.inline;
  }

  /** Encodes a group into the ring and publishes it; false when the ring has no room now. */
  private publish(
    payloads: readonly Uint8Array[],
    bytes: number,
    firstLsn: number,
    resolve: (firstLsn: number) => void,
    reject: (error: unknown) => void,
  ): boolean {
    const start = this.reserve(bytes, firstLsn);
    if (start < 0) return false;
    const ring = this.ring;
    let offset = start;
    let lsn = firstLsn;
    // Unsealed: the committer adds the records' CRCs as it frames them (sealRecords).
    for (const payload of payloads) offset += encodeUnsealedRecord(ring.ring, ring.ringView, offset, lsn++, payload);
    this.publishGroup(start, offset, payloads.length, firstLsn, resolve, reject);
    return true;
  }

  /** Where in the ring a group of `bytes` from `firstLsn` goes; -1 when it must wait (the ring is full). */
  private reserve(bytes: number, firstLsn: number): number {
    if (this.pending.length >= GROUP_SLOTS) return -1;
    const start = this.allocate(bytes);
    if (start >= 0) assert(firstLsn === this.publishedNextLsn, "groups are published in LSN order");
    return start;
  }

  /** Hands the committer the group of `records` encoded in ring[start, end) (from reserve). */
  private publishGroup(
    start: number,
    end: number,
    records: number,
    firstLsn: number,
    resolve: (firstLsn: number) => void,
    reject: (error: unknown) => void,
  ): void {
    const ring = this.ring;
    const bytes = end - start;
    this.publishedNextLsn = firstLsn + records;
    const slot = CommitRing.slot(this.published);
    ring.groups[slot] = start;
    ring.groups[slot + 1] = end;
    ring.groups[slot + 2] = records;
    this.published = (this.published + 1) | 0;
    Atomics.store(ring.control, Control.published, this.published);
    // Splitting, the thread starts at once (its I/O overlaps the rest of the burst); otherwise
    // the commit waits for the end of this turn, where the event loop may make it itself.
    if (++this.publishedSinceAck >= this.wakeAtGroups && (this.committerHere === undefined || this.splitting)) {
      ring.wakeCommitter();
    } else this.wakeSoon();
    this.ringHead = end;
    this.pending.push(firstLsn, firstLsn + records - 1, start, bytes, resolve, reject);
    this.counters.records += records;
    this.counters.recordBytes += bytes;
    this.watch();
  }

  /**
   * Wakes an idle committer once this turn of the event loop has appended all it will. Woken
   * at the first append of a burst, it would commit that one alone and make the rest wait a
   * whole fsync (bench: c=16 fell from ~16 to ~8 records per fsync). `wakeAtGroups` wakes it
   * earlier when that is better (see `planWake`). A busy committer needs no wake: it takes
   * everything published when its fsync returns.
   */
  private wakeSoon(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(this.wakeNow);
  }

  /**
   * When a burst's JavaScript is cheaper than a commit, the event loop would only wait through
   * the fsync: it commits itself, blocking for the write and fdatasync but saving the two
   * thread hand-offs (~50-70 µs of a ~300 µs put at c = 1 here). If the writer thread is
   * mid-commit, it takes the burst when its fsync returns. With a burst whose JavaScript
   * outweighs a commit, the thread overlaps the two instead.
   */
  private readonly wakeNow = (): void => {
    this.wakeScheduled = false;
    const here = this.committerHere;
    // Not "is the thread asleep?": the lock answers that, and a thread still starting (~30 ms,
    // ~250 ms under tsx) would otherwise hold up a new log's first commits.
    if (here === undefined || this.splitting || this.failure !== undefined) {
      this.ring.wakeCommitter();
      return;
    }
    here.commitHere().then(
      (committed) => {
        if (!committed) {
          this.ring.wakeCommitter();
          return;
        }
        this.poll();
        // One frame a turn: the rest of the groups (a frame is at most batchBytesMax) next turn,
        // unless a segment must start first (rotate() calls again once it is in place).
        const control = this.ring.control;
        if (
          Atomics.load(control, Control.state) === CommitterState.running &&
          Atomics.load(control, Control.published) !== Atomics.load(control, Control.written)
        ) {
          this.wakeSoon();
        }
      },
      (error: unknown) => this.fail(error),
    );
  };

  /** Finds `bytes` of contiguous free ring space after the live region; -1 when there is none. */
  private allocate(bytes: number): number {
    const size = this.ring.ringBytes;
    const tail = this.pending.oldestStart;
    if (tail < 0) return bytes <= size ? 0 : -1;
    const head = this.ringHead;
    if (head > tail) {
      if (head + bytes <= size) return head;
      return bytes <= tail ? 0 : -1;
    }
    if (head < tail) return head + bytes <= tail ? head : -1;
    return -1; // head === tail with groups live: full
  }

  /** Makes sure the committer's next event will be handled. */
  private watch(): void {
    if (this.failure !== undefined) return;
    // Held even when already watching: poll may have let go of it under a waitAsync still pending.
    this.holdWorker(true);
    if (this.watching) return;
    this.watching = true;
    const wait = Atomics.waitAsync(this.ring.control, Control.event, this.eventSeen);
    if (wait.async) void wait.value.then(this.onEvent);
    else queueMicrotask(this.onEvent);
  }

  private readonly onEvent = (): void => {
    this.watching = false;
    this.poll();
  };

  /** Takes in what the committer did: acknowledgements, rotation, failure, stop. */
  private poll(): void {
    if (this.failure !== undefined) return;
    const { ring } = this;
    const control = ring.control;
    this.eventSeen = Atomics.load(control, Control.event);
    const state = Atomics.load(control, Control.state);
    if (state === CommitterState.failed) {
      this.fail(this.committerError());
      return;
    }
    const writtenLsn = ring.readLsn(Control.writtenLsnLow);
    if (writtenLsn > this.writtenLsn) this.writtenLsn = writtenLsn;
    const durableLsn = ring.readLsn(Control.durableLsnLow);
    if (durableLsn > this.durableLsn) {
      this.durableLsn = durableLsn;
      this.hooks.onDurable(durableLsn);
    }
    this.acknowledge(Atomics.load(control, this.acknowledgeWhen));
    this.segments.noteActiveBytes(ring.readPosition());
    this.settleWaiters();
    this.drainOverflow();
    if (state === CommitterState.needsSegment && !this.rotating) this.rotate();
    if (state === CommitterState.stopped) {
      this.stopped?.();
      this.holdWorker(false);
      return;
    }
    const busy =
      this.pending.length > 0 ||
      this.overflow.length > 0 ||
      this.rotating ||
      this.waiters.length > 0 ||
      this.stopped !== undefined ||
      Atomics.load(control, Control.command) !== Command.none;
    if (busy) this.watch();
    else this.holdWorker(false);
  }

  /** Refs or unrefs the writer thread, calling into it only when that changes. */
  private holdWorker(held: boolean): void {
    if (this.workerHeld === held) return;
    this.workerHeld = held;
    if (held) this.worker?.ref();
    else this.worker?.unref();
  }

  /** Resolves every group up to sequence `upTo`, oldest first. */
  private acknowledge(upTo: number): void {
    let count = (upTo - this.acknowledged) | 0;
    if (count <= 0) return;
    this.acknowledged = upTo;
    this.planWake(count);
    let first = 0;
    let last = 0;
    let records = 0;
    const pending = this.pending;
    while (count-- > 0 && pending.length > 0) {
      const firstLsn = pending.oldestFirstLsn;
      if (first === 0) first = firstLsn;
      last = pending.oldestLastLsn;
      records += last - firstLsn + 1;
      this.counters.pendingBytes -= pending.oldestBytes;
      pending.shift()(firstLsn);
    }
    if (records > 0) {
      this.hooks.onCommit({
        firstLsn: first,
        lastLsn: last,
        records,
        durationMs: this.ring.stats[Stat.lastCommitMs] ?? 0,
        fsyncMs: this.ring.stats[Stat.lastFsyncMs] ?? 0,
        durable: this.options.sync === "always",
      });
    }
  }

  /**
   * `groups` writers are about to be woken, and most will append again at once. If their
   * JavaScript costs less than a commit, the committer should wait for all of them (one fsync
   * for everyone); if it costs clearly more, it should start once only the first ones have
   * appended, so that its I/O overlaps with the JavaScript of the rest (bench/log.ts: c=256 gains ~25%,
   * c=1 and c=16 keep one fsync per burst).
   */
  private planWake(groups: number): void {
    const commitMs = this.ring.stats[Stat.lastCommitMs] ?? this.commitMsEwma;
    this.commitMsEwma += EWMA_WEIGHT * (commitMs - this.commitMsEwma);
    const jsMs = groups * this.jsMsPerGroupEwma;
    this.splitting = jsMs > SPLIT_WHEN_JS_OVER_COMMIT * this.commitMsEwma;
    this.wakeAtGroups = this.splitting ? Math.max(1, Math.ceil(groups - this.commitMsEwma / this.jsMsPerGroupEwma)) : groups;
    this.publishedSinceAck = 0;
    if (!this.measuringJs) {
      this.measuringJs = true;
      this.acknowledgedAtMs = this.options.clock.monotonicMs();
      this.acknowledgedGroups = groups;
      setImmediate(this.measureJs);
    }
  }

  /** Runs once the woken writers' JavaScript has run: samples its cost per group. */
  private readonly measureJs = (): void => {
    this.measuringJs = false;
    const perGroupMs = (this.options.clock.monotonicMs() - this.acknowledgedAtMs) / this.acknowledgedGroups;
    this.jsMsPerGroupEwma += EWMA_WEIGHT * (perGroupMs - this.jsMsPerGroupEwma);
  };

  private drainOverflow(): void {
    while (this.overflow.length > 0) {
      const next = this.overflow.peek() as Overflow;
      if (!this.publish(next.payloads, next.bytes, next.firstLsn, next.resolve, next.reject)) break;
      this.overflow.shift();
    }
  }

  /** Starts a new segment for the committer, which waits meanwhile. */
  private rotate(): void {
    this.rotating = true;
    const firstLsn = this.ring.readLsn(Control.rotateLsnLow);
    this.segments.rotate(firstLsn).then(
      () => {
        this.rotating = false;
        if (this.failure !== undefined) return;
        const control = this.ring.control;
        // Rotation fdatasynced the old segment: everything written is durable now.
        this.ring.writeLsn(Control.durableLsnLow, this.ring.readLsn(Control.writtenLsnLow));
        Atomics.store(control, Control.durable, Atomics.load(control, Control.written));
        Atomics.store(control, Control.fd, this.segments.handle.descriptor ?? -1);
        Atomics.store(control, Control.frameSeed, this.segments.activeFrameSeed | 0);
        this.ring.writePosition(SEGMENT_HEADER_BYTES);
        Atomics.compareExchange(control, Control.state, CommitterState.needsSegment, CommitterState.running);
        Atomics.notify(control, Control.state);
        Atomics.add(control, Control.event, 1);
        // Whoever asked for the segment, the groups that did not fit are still to be committed.
        if (this.pending.length > 0) this.wakeSoon();
        this.watch();
      },
      (error: unknown) => this.fail(error),
    );
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      const reached = waiter.level === "durable" ? this.durableLsn : this.writtenLsn;
      if (reached >= waiter.lsn) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
    if (this.waiters.some((w) => w.level === "durable" && w.lsn <= this.writtenLsn)) this.requestSync();
  }

  private committerError(): Error {
    try {
      const parsed = JSON.parse(this.ring.readError()) as { code?: string; syscall?: string; message?: string };
      const error = new Error(parsed.message ?? "the writer thread failed") as NodeJS.ErrnoException;
      if (parsed.code !== undefined) error.code = parsed.code;
      if (parsed.syscall !== undefined) error.syscall = parsed.syscall;
      return error;
    } catch {
      return new Error(this.ring.readError());
    }
  }

  private inlineIo(): CommitterIo {
    const control = this.ring.control;
    return {
      write: async (chunks, position, datasync) => {
        const handle = this.segments.handle;
        let at = position;
        for (const chunk of chunks) {
          await handle.write(chunk, at);
          at += chunk.byteLength;
        }
        if (datasync) await handle.datasync();
      },
      datasync: () => this.segments.handle.datasync(),
      nowMs: () => this.options.clock.monotonicMs(),
      wait: async (index, value) => {
        // Turn by turn first: waitAsync wakes through a V8 task whose order against setImmediate
        // varies from run to run, and a simulated run must replay exactly from its seed. A
        // committer idle for longer sleeps for real.
        for (let turn = 0; turn < INLINE_SPIN_TURNS; turn++) {
          if (Atomics.load(control, index) !== value) return;
          await new Promise((resolve) => setImmediate(resolve));
        }
        const wait = Atomics.waitAsync(control, index, value);
        if (wait.async) await wait.value;
      },
    };
  }

  /** Fail-stop: the log takes no more writes; whatever was not acknowledged never will be. */
  private fail(cause: unknown): void {
    if (this.failure !== undefined) return;
    const code = errnoCode(cause);
    const error =
      cause instanceof LogbookError
        ? cause
        : code === "ENOSPC"
          ? new LogbookError("LOGBOOK_NO_SPACE", "the disk is full; the log is read-only until reopened", { cause })
          : new LogbookError(
              "LOGBOOK_LOG_FAILED",
              `a log write or sync failed (${code ?? "unknown error"}); the log is read-only until reopened`,
              { cause },
            );
    this.failure = error;
    const control = this.ring.control;
    // A committer that is still running must not write another byte.
    Atomics.store(control, Control.state, CommitterState.failed);
    Atomics.notify(control, Control.state);
    Atomics.add(control, Control.wake, 1);
    Atomics.notify(control, Control.wake);
    this.timer?.cancel();
    for (const reject of this.pending.drainRejecters()) reject(error);
    for (const item of this.overflow.drain()) item.reject(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.counters.pendingBytes = 0;
    this.stopped?.();
    this.holdWorker(false);
    this.hooks.onFailure(error);
  }
}
