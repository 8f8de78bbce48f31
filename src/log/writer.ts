/**
 * Group commit: appends encode their records straight into a ring shared with the committer,
 * which takes whatever was published when it is free and commits it as one frame with one
 * write and one fdatasync; appends are then acknowledged in LSN order. So batches form by
 * themselves while an fsync is in flight, with no timer.
 *
 * This file composes the stages of the write path behind the one class the log uses; read them
 * in the order a write travels (write-state.ts lists them):
 *   sequencer.ts → commit-placement.ts (adaptive-placement.ts) → committer.ts
 *   (start-committers.ts, commit-thread.ts) → acknowledgement.ts
 */
import type { Worker } from "node:worker_threads";
import type { LogbookError } from "../errors.js";
import { Acknowledgement } from "./acknowledgement.js";
import { AdaptivePlacement } from "./adaptive-placement.js";
import type { CommitPlacement } from "./commit-placement.js";
import { CommitRing, CommitterState, Control, Stat } from "./commit-ring.js";
import type { PayloadSource, WaitLevel } from "./contract.js";
import type { ResolvedLogOptions } from "./options.js";
import type { SegmentSet } from "./segments.js";
import { Sequencer } from "./sequencer.js";
import { startCommitters } from "./start-committers.js";
import { type WriterHooks, WriteState } from "./write-state.js";

export type { WriterHooks } from "./write-state.js";

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

const RING_BYTES_MIN = 1024 * 1024;

function nextPowerOfTwo(value: number): number {
  return 2 ** Math.ceil(Math.log2(value));
}

/** A commit ring whose control words hold the active segment and the LSNs recovery ended at. */
function createRing(segments: SegmentSet, options: ResolvedLogOptions, nextLsn: number, writePosition: number): CommitRing {
  const ring = CommitRing.create(nextPowerOfTwo(Math.max(RING_BYTES_MIN, 4 * options.batchBytesMax)));
  const control = ring.control;
  Atomics.store(control, Control.state, CommitterState.running);
  Atomics.store(control, Control.segmentBytes, options.segmentBytes);
  Atomics.store(control, Control.fd, segments.handle.descriptor ?? -1);
  Atomics.store(control, Control.frameSeed, segments.activeFrameSeed | 0);
  ring.writePosition(writePosition);
  ring.writeLsn(Control.writtenLsnLow, nextLsn - 1);
  ring.writeLsn(Control.durableLsnLow, nextLsn - 1);
  return ring;
}

export class GroupCommitWriter {
  private readonly state: WriteState;
  private readonly sequencer: Sequencer;
  private readonly placement: CommitPlacement;
  private readonly acknowledgement: Acknowledgement;
  private readonly worker: Worker | undefined;
  private readonly inline: Promise<void> | undefined;

  constructor(segments: SegmentSet, options: ResolvedLogOptions, nextLsn: number, writePosition: number, hooks: WriterHooks) {
    const ring = createRing(segments, options, nextLsn, writePosition);
    this.state = new WriteState(ring, segments, options, hooks);
    const committers = startCommitters(ring, segments, options, (error) => this.acknowledgement.fail(error));
    this.worker = committers.worker;
    this.inline = committers.inline;
    this.acknowledgement = new Acknowledgement(this.state, nextLsn, committers.worker);
    this.placement = new AdaptivePlacement(this.state, committers.here, this.acknowledgement);
    this.sequencer = new Sequencer(this.state, nextLsn, this.placement, this.acknowledgement);
    this.acknowledgement.connect(this.sequencer, this.placement);
  }

  /** The next LSN to hand out. */
  get nextLsn(): number {
    return this.sequencer.nextLsn;
  }

  get lastLsn(): number {
    return this.sequencer.nextLsn - 1;
  }

  get writtenLsn(): number {
    return this.acknowledgement.writtenLsn;
  }

  get durableLsn(): number {
    return this.acknowledgement.durableLsn;
  }

  /** The LSN up to which appends have been acknowledged under the sync mode. */
  get committedLsn(): number {
    return this.state.options.sync === "always" ? this.acknowledgement.durableLsn : this.acknowledgement.writtenLsn;
  }

  get failure(): LogbookError | undefined {
    return this.state.failure;
  }

  get recordBytes(): number {
    return this.state.recordBytes;
  }

  get stats(): WriterStats {
    const { state } = this;
    const s = state.ring.stats;
    return {
      appends: state.appends,
      records: state.records,
      recordBytes: state.recordBytes,
      pendingBytes: state.pendingBytes,
      commits: s[Stat.frames] ?? 0,
      commitsOnEventLoop: s[Stat.framesOnEventLoop] ?? 0,
      fsyncs: s[Stat.fsyncs] ?? 0,
      commitMsTotal: s[Stat.commitMsTotal] ?? 0,
      commitMsMax: s[Stat.commitMsMax] ?? 0,
    };
  }

  /** See Sequencer.sequence: LSNs now, a promise of acknowledgement. */
  sequence(payloads: readonly Uint8Array[]): { firstLsn: number; committed: Promise<number> } {
    return this.sequencer.sequence(payloads);
  }

  /** See Sequencer.sequenceDetached: acknowledgement through the hooks only. */
  sequenceDetached(payloads: readonly Uint8Array[]): number {
    return this.sequencer.sequenceDetached(payloads);
  }

  /** See Sequencer.sequenceEncoded: one record whose payload is written straight into the ring. */
  sequenceEncoded(source: PayloadSource): number {
    return this.sequencer.sequenceEncoded(source);
  }

  append(payloads: readonly Uint8Array[]): Promise<number> {
    try {
      return this.sequencer.sequence(payloads).committed;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  waitFor(lsn: number, level: WaitLevel): Promise<void> {
    return this.acknowledgement.waitFor(lsn, level);
  }

  requestSync(): void {
    this.acknowledgement.requestSync();
  }

  /** Commits everything appended so far, makes it durable, stops the committer. */
  async close(): Promise<void> {
    this.state.closing = true;
    await this.acknowledgement.stop(this.lastLsn);
    await this.worker?.terminate();
    await this.inline;
  }
}
