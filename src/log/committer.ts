/**
 * Stage 3 of a write, the committer. Previous stage: commit placement (commit-placement.ts)
 * decides whether the writer thread or the event loop commits the groups sequencer.ts
 * published. Next stage: acknowledgement.ts, which reads the control words this side updates.
 *
 * The committer takes every group the appenders published, frames them (docs/format.md,
 * "Frame"), writes the frame with one write and makes it durable with one fdatasync (sync
 * `always`), then publishes how far it got. It runs on the log's writer thread
 * (commit-thread.ts) for real disks, or as an async loop on the main thread for a file
 * system without descriptors (the simulated disk): the same code either way, started by
 * start-committers.ts. With a writer thread, the event loop may also commit a frame itself
 * (`commitHere`, commitOnEventLoop): the `owner` control word is a lock, taken for each frame,
 * so exactly one of them writes at a time, and each reads where the last frame ended from the
 * control words.
 *
 * Invariants: frames are written in LSN order; a frame is written only after the previous
 * one is durable (sync `always`), so at most one frame is ever torn by a crash, which is what
 * recovery.ts relies on to tell a torn tail from damage; with `interval` or `none`, each frame
 * records how many records before it were not yet durable, which tells recovery how far back a
 * crash may have torn; after a failed write or sync nothing more is written (fail-stop).
 */
import { assert } from "../assert.js";
import { datasyncSync, writeChunksSync } from "../io/index.js";
import { Command, type CommitRing, CommitterState, Control, GROUP_SLOTS, Owner, Stat } from "./commit-ring.js";
import { FRAME_HEADER_BYTES } from "./format.js";
import { encodeFrameHeader, recordsChecksum } from "./frame.js";
import type { SyncMode } from "./options.js";
import { sealRecords } from "./record.js";

/** What the committer needs of the disk and of its thread. */
export interface CommitterIo {
  /** Writes all chunks contiguously at `position`, then fdatasyncs when asked. */
  write(chunks: Uint8Array[], position: number, datasync: boolean): void | Promise<void>;
  datasync(): void | Promise<void>;
  /** Returns once control word `index` may no longer hold `value` (spurious returns are fine). */
  wait(index: number, value: number): void | Promise<void>;
  /** Monotonic milliseconds, for the commit and fsync timings (virtual on the simulated disk). */
  nowMs(): number;
}

/**
 * Blocking writes and fdatasyncs on the active segment's descriptor, read from the control
 * words at each call (rotation changes it): the writer thread's calls, and the event loop's
 * when it commits itself.
 */
export function descriptorIo(control: Int32Array, wait: CommitterIo["wait"]): CommitterIo {
  return {
    write(chunks, position, datasync) {
      const fd = Atomics.load(control, Control.fd);
      writeChunksSync(fd, chunks, position);
      if (datasync) datasyncSync(fd);
    },
    datasync() {
      datasyncSync(Atomics.load(control, Control.fd));
    },
    nowMs: () => performance.now(),
    wait,
  };
}

export interface CommitterConfig {
  sync: SyncMode;
  batchBytesMax: number;
}

export class Committer {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly chunks: Uint8Array[] = [];

  /**
   * `owner` is who this committer commits for: the writer thread (or the simulated disk's loop)
   * runs `run`; the appenders' own instance only calls `commitHere`. Whoever commits reads how
   * far the last frame got from the control words, so either may write the next frame.
   */
  constructor(
    private readonly ring: CommitRing,
    private readonly io: CommitterIo,
    private readonly config: CommitterConfig,
    private readonly owner: number = Owner.thread,
  ) {}

  async run(): Promise<void> {
    const control = this.ring.control;
    try {
      for (;;) {
        const state = Atomics.load(control, Control.state);
        // Failed (here or on the main thread) or stopped: not another byte is written.
        if (state === CommitterState.failed || state === CommitterState.stopped) return;
        if (state === CommitterState.needsSegment) {
          await this.io.wait(Control.state, CommitterState.needsSegment);
          continue;
        }
        if (
          Atomics.load(control, Control.command) !== Command.none ||
          Atomics.load(control, Control.published) !== Atomics.load(control, Control.written)
        ) {
          if (!this.acquire()) {
            await this.io.wait(Control.owner, Owner.appenders);
            continue;
          }
          try {
            // Everything is read again under the lock: the other owner may have committed
            // between the check above and the lock. A `published` read before the lock may be
            // behind a `written` the other owner has since moved past it: framing from there
            // would walk the group counter through stale ring slots.
            const command = Atomics.load(control, Control.command);
            const published = Atomics.load(control, Control.published);
            if (Atomics.load(control, Control.state) === CommitterState.running && (await this.step(command, published))) {
              return;
            }
          } catch (error) {
            // Failed before the lock is let go: the event loop takes the lock only to commit,
            // and must find the log failed, or it would write after a failed write or sync.
            this.recordFailure(error);
            return;
          } finally {
            this.release();
          }
          continue;
        }
        Atomics.store(control, Control.idle, 1);
        const wake = Atomics.load(control, Control.wake);
        // Not if an appender has cleared `idle` since (wakeCommitter): it has claimed a wake that
        // `wake` may already count, and a sleep on that count would never be woken, since later
        // wakes see `idle` clear and skip the notify. A wake comes without new work too (a commit
        // the event loop could not take, a rotation done), so re-reading the work is not enough.
        if (
          Atomics.load(control, Control.published) === Atomics.load(control, Control.written) &&
          Atomics.load(control, Control.command) === Command.none &&
          Atomics.load(control, Control.idle) === 1
        ) {
          await this.io.wait(Control.wake, wake);
        }
        Atomics.store(control, Control.idle, 0);
      }
    } catch (error) {
      this.recordFailure(error);
    }
  }

  /** Fail-stop: publishes the error and the failed state, which stops both committers. */
  private recordFailure(error: unknown): void {
    const e = error as NodeJS.ErrnoException;
    this.ring.setError(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message }));
    Atomics.store(this.ring.control, Control.state, CommitterState.failed);
    this.ring.bumpEvent();
  }

  /**
   * Commits, on the calling thread, one frame of the groups published so far (as many as fit
   * batchBytesMax and the segment; the caller comes back for the rest), unless the other owner
   * is committing: then returns false and leaves it to them. Throws what the write or sync
   * threw, with the committer already failed (nothing more is written by anyone).
   */
  async commitHere(): Promise<boolean> {
    if (!this.acquire()) return false;
    const control = this.ring.control;
    try {
      const published = Atomics.load(control, Control.published);
      if (
        Atomics.load(control, Control.state) === CommitterState.running &&
        published !== Atomics.load(control, Control.written)
      ) {
        await this.commitFrame(published);
      }
    } catch (error) {
      Atomics.store(control, Control.state, CommitterState.failed);
      throw error;
    } finally {
      this.release();
    }
    return true;
  }

  /** Does the one thing due now, in priority order; true once stopped. */
  private async step(command: number, published: number): Promise<boolean> {
    const control = this.ring.control;
    if (command === Command.sync) {
      // A requested sync goes before more frames, or steady load would starve it.
      await this.syncWritten();
      Atomics.compareExchange(control, Control.command, Command.sync, Command.none);
      this.ring.bumpEvent();
      return false;
    }
    if (published !== Atomics.load(control, Control.written)) {
      await this.commitFrame(published);
      return false;
    }
    if (command !== Command.stop) return false;
    await this.syncWritten();
    Atomics.compareExchange(control, Control.state, CommitterState.running, CommitterState.stopped);
    this.ring.bumpEvent();
    return true;
  }

  private acquire(): boolean {
    return Atomics.compareExchange(this.ring.control, Control.owner, Owner.none, this.owner) === Owner.none;
  }

  private release(): void {
    Atomics.store(this.ring.control, Control.owner, Owner.none);
    Atomics.notify(this.ring.control, Control.owner);
  }

  private async syncWritten(): Promise<void> {
    const control = this.ring.control;
    const written = Atomics.load(control, Control.written);
    if (written === Atomics.load(control, Control.durable)) return;
    const writtenLsn = this.ring.readLsn(Control.writtenLsnLow);
    await this.io.datasync();
    this.ring.stats[Stat.fsyncs] = (this.ring.stats[Stat.fsyncs] ?? 0) + 1;
    this.ring.writeLsn(Control.durableLsnLow, writtenLsn);
    Atomics.store(control, Control.durable, written);
  }

  /** Frames every published group that fits one frame and the segment, writes and syncs it. */
  private async commitFrame(published: number): Promise<void> {
    const { ring, config, chunks } = this;
    const groups = ring.groups;
    const segmentBytes = Atomics.load(ring.control, Control.segmentBytes);
    const position = ring.readPosition();
    const nextLsn = ring.readLsn(Control.writtenLsnLow) + 1;
    let sequence = Atomics.load(ring.control, Control.written);
    // Fail-stop rather than frame stale ring slots if the counters ever disagree (see run).
    const waiting = (published - sequence) | 0;
    assert(waiting > 0 && waiting <= GROUP_SLOTS, "the groups to commit are published and not yet written");
    let frameBytes = FRAME_HEADER_BYTES;
    let records = 0;
    let chunkStart = -1;
    let chunkEnd = -1;
    chunks.length = 0;
    chunks.push(this.header);
    while (sequence !== published) {
      const slot = (sequence & 0xffff) * 3;
      const start = groups[slot] as number;
      const end = groups[slot + 1] as number;
      const bytes = end - start;
      if (frameBytes + bytes > config.batchBytesMax || position + frameBytes + bytes > segmentBytes) break;
      // The appenders left the CRCs to this side (sequencer.ts, publish): on the writer thread they cost the event loop nothing.
      sealRecords(ring.ring, ring.ringView, start, end);
      if (start !== chunkEnd) {
        if (chunkEnd >= 0) chunks.push(ring.ring.subarray(chunkStart, chunkEnd));
        chunkStart = start;
      }
      chunkEnd = end;
      frameBytes += bytes;
      records += groups[slot + 2] as number;
      sequence = (sequence + 1) | 0;
    }
    if (records === 0) {
      // The next group does not fit in this segment: the appenders start a new one.
      ring.writeLsn(Control.rotateLsnLow, nextLsn);
      Atomics.compareExchange(ring.control, Control.state, CommitterState.running, CommitterState.needsSegment);
      ring.bumpEvent();
      return;
    }
    chunks.push(ring.ring.subarray(chunkStart, chunkEnd));
    // With sync `interval` or `none`, earlier frames may not be durable yet: the header says how
    // many records back, so that recovery can tell their torn write from damage (recovery.ts).
    const unsyncedBefore = nextLsn - 1 - ring.readLsn(Control.durableLsnLow);
    // One CRC over the whole frame's records, so recovery and readers can check it in one pass.
    const recordsCrc = recordsChecksum(chunks, 1); // chunks[0] is the header
    const frameSeed = Atomics.load(ring.control, Control.frameSeed) >>> 0;
    encodeFrameHeader(this.header, this.headerView, 0, frameBytes, nextLsn, records, unsyncedBefore, recordsCrc, frameSeed);
    const durable = config.sync === "always";
    const startedMs = this.io.nowMs();
    await this.io.write(chunks, position, false);
    // Timed apart from the write so that operators see the disk's own fsync latency.
    const fsyncStartedMs = this.io.nowMs();
    if (durable) await this.io.datasync();
    const endedMs = this.io.nowMs();
    assert(position + frameBytes <= segmentBytes, "a frame never crosses the end of its segment");
    ring.writePosition(position + frameBytes);
    this.countFrame(records, frameBytes, endedMs - startedMs, durable ? endedMs - fsyncStartedMs : 0);
    ring.writeLsn(Control.writtenLsnLow, nextLsn + records - 1);
    Atomics.store(ring.control, Control.written, sequence);
    if (durable) {
      ring.stats[Stat.fsyncs] = (ring.stats[Stat.fsyncs] ?? 0) + 1;
      ring.writeLsn(Control.durableLsnLow, nextLsn + records - 1);
      Atomics.store(ring.control, Control.durable, sequence);
    }
    this.announce();
  }

  /** Adds a written frame to the statistics the log reports (log.stats(), the commit histograms). */
  private countFrame(records: number, frameBytes: number, durationMs: number, fsyncMs: number): void {
    const stats = this.ring.stats;
    stats[Stat.frames] = (stats[Stat.frames] ?? 0) + 1;
    if (this.owner === Owner.appenders) stats[Stat.framesOnEventLoop] = (stats[Stat.framesOnEventLoop] ?? 0) + 1;
    stats[Stat.records] = (stats[Stat.records] ?? 0) + records;
    stats[Stat.frameBytes] = (stats[Stat.frameBytes] ?? 0) + frameBytes;
    stats[Stat.commitMsTotal] = (stats[Stat.commitMsTotal] ?? 0) + durationMs;
    stats[Stat.lastCommitMs] = durationMs;
    stats[Stat.lastFsyncMs] = fsyncMs;
    if (durationMs > (stats[Stat.commitMsMax] ?? 0)) stats[Stat.commitMsMax] = durationMs;
  }

  /**
   * Publishes progress. The appenders' own commits are taken in by their caller right after,
   * so they need not wake the event loop through its pending waitAsync (a task per commit).
   */
  private announce(): void {
    if (this.owner === Owner.appenders) Atomics.add(this.ring.control, Control.event, 1);
    else this.ring.bumpEvent();
  }
}
