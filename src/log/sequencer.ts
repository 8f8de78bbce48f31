/**
 * Stage 1 of a write, admission and sequencing: the first code an append runs after the log's
 * front door (log.ts, through writer.ts). Next stage: commit placement (commit-placement.ts),
 * told of each group as it is published.
 *
 * An append is checked (not failed or closed, under batchBytesMax and pendingBytesMax, LSNs
 * left), given its LSNs in call order, encoded straight into the shared ring and published as
 * one group: contiguous in the ring and never split across frames, which is what makes a batch
 * atomic. Records are encoded unsealed; the committer adds their CRCs as it frames them, off the
 * event loop. While the ring has no room, appends wait in memory in LSN order (the overflow)
 * with their LSNs already theirs, and are published as acknowledgements free the ring.
 *
 * Invariants: groups are published in LSN order; a group's ring bytes stay untouched until it is
 * acknowledged (the ring's live region runs from the oldest pending group to `ringHead`); once
 * anything waits in the overflow, every later group waits behind it.
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import type { Acknowledgement } from "./acknowledgement.js";
import type { CommitPlacement } from "./commit-placement.js";
import { CommitRing, Control, GROUP_SLOTS } from "./commit-ring.js";
import type { PayloadSource } from "./contract.js";
import { FRAME_HEADER_BYTES, LSN_MAX, RECORD_HEADER_BYTES, recordBytes } from "./format.js";
import type { ResolvedLogOptions } from "./options.js";
import { encodeUnsealedRecord, encodeUnsealedRecordHeader } from "./record.js";
import type { Overflow, WriteState } from "./write-state.js";

/** The settlement of a group sequenced without a promise (see sequenceDetached). */
function ignore(): void {}

export class Sequencer {
  /** The next LSN to hand out. */
  nextLsn: number;
  /** LSN of the next record to publish (behind `nextLsn` while appends wait in the overflow). */
  private publishedNextLsn: number;
  /** Groups published so far (a wrapping Int32 sequence, as the ring's `published` word). */
  private published = 0;
  /** Where the next group goes in the ring when there is room after the live region. */
  private ringHead = 0;
  private readonly ring: CommitRing;
  private readonly options: ResolvedLogOptions;

  constructor(
    private readonly state: WriteState,
    nextLsn: number,
    private readonly placement: CommitPlacement,
    private readonly acknowledgement: Acknowledgement,
  ) {
    this.nextLsn = nextLsn;
    this.publishedNextLsn = nextLsn;
    this.ring = state.ring;
    this.options = state.options;
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
   * (its lastLsn) and a failure through `hooks.onFailure`. For a layer that applies its writes
   * in LSN order once per commit anyway (the store), which then makes no promise per write that
   * it would never await.
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
    const start = this.state.overflow.length === 0 ? this.reserve(bytes, lsn) : -1;
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

  /** Publishes the groups waiting in the overflow, oldest first, as far as the ring has room. */
  drainOverflow(): void {
    const overflow = this.state.overflow;
    while (overflow.length > 0) {
      const next = overflow.peek() as Overflow;
      if (!this.publish(next.payloads, next.bytes, next.firstLsn, next.resolve, next.reject)) break;
      overflow.shift();
    }
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
    const state = this.state;
    if (state.failure !== undefined) throw state.failure;
    if (state.closing) throw new LogbookError("LOGBOOK_CLOSED", "the log is closed");
    if (FRAME_HEADER_BYTES + bytes > this.options.batchBytesMax) {
      throw new LogbookError(
        "LOGBOOK_RECORD_TOO_LARGE",
        `${records === 1 ? "record" : "batch"} of ${bytes} bytes exceeds batchBytesMax ${this.options.batchBytesMax}`,
      );
    }
    if (state.pendingBytes + bytes > this.options.pendingBytesMax) {
      throw new LogbookError(
        "LOGBOOK_OVERLOADED",
        `${state.pendingBytes} bytes are waiting to be written; pendingBytesMax is ${this.options.pendingBytesMax}`,
      );
    }
    if (this.nextLsn + records > LSN_MAX) throw new LogbookError("LOGBOOK_INVALID_LSN", "LSNs are exhausted");
  }

  private countAdmission(bytes: number): void {
    const state = this.state;
    state.appends++;
    state.pendingBytes += bytes;
  }

  private enqueue(
    payloads: readonly Uint8Array[],
    bytes: number,
    firstLsn: number,
    resolve: (firstLsn: number) => void,
    reject: (error: unknown) => void,
  ): void {
    // Appends wait in memory, in order, while the ring is full; their LSNs are already theirs.
    const overflow = this.state.overflow;
    if (overflow.length > 0 || !this.publish(payloads, bytes, firstLsn, resolve, reject)) {
      overflow.push({ payloads, bytes, firstLsn, resolve, reject });
      this.acknowledgement.watch();
    }
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
    if (this.state.pending.length >= GROUP_SLOTS) return -1;
    const start = this.allocate(bytes);
    if (start >= 0) assert(firstLsn === this.publishedNextLsn, "groups are published in LSN order");
    return start;
  }

  /** Finds `bytes` of contiguous free ring space after the live region; -1 when there is none. */
  private allocate(bytes: number): number {
    const size = this.ring.ringBytes;
    const tail = this.state.pending.oldestStart;
    if (tail < 0) return bytes <= size ? 0 : -1;
    const head = this.ringHead;
    if (head > tail) {
      if (head + bytes <= size) return head;
      return bytes <= tail ? 0 : -1;
    }
    if (head < tail) return head + bytes <= tail ? head : -1;
    return -1; // head === tail with groups live: full
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
    const { ring, state } = this;
    const bytes = end - start;
    this.publishedNextLsn = firstLsn + records;
    const slot = CommitRing.slot(this.published);
    ring.groups[slot] = start;
    ring.groups[slot + 1] = end;
    ring.groups[slot + 2] = records;
    this.published = (this.published + 1) | 0;
    Atomics.store(ring.control, Control.published, this.published);
    this.placement.published();
    this.ringHead = end;
    state.pending.push(firstLsn, firstLsn + records - 1, start, bytes, resolve, reject);
    state.records += records;
    state.recordBytes += bytes;
    this.acknowledgement.watch();
  }
}
