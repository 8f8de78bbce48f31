/**
 * How many bytes of log lie after an LSN: what a feed cursor that far behind holds on disk.
 * The log counts the bytes appended since it was opened, not where each LSN lies, so the
 * ledger samples that count at each commit (the commit's last LSN and the bytes appended by
 * then) and interpolates between samples. It holds at most LEDGER_SAMPLES_MAX samples: when
 * full it keeps every other one (coarser, still bounded), and samples below the oldest LSN
 * anyone still asks about are let go. LSNs from before the open are estimated from the mean
 * record size.
 */
import { assert } from "../assert.js";

export const LEDGER_SAMPLES_MAX = 4096;

export class LogByteLedger {
  /** Sample i says: by the commit of LSN lsns[i], bytes[i] bytes had been appended since open. Both grow. */
  private lsns: number[] = [];
  private bytes: number[] = [];
  private readonly meanRecordBytes: () => number;

  /** `openLsn`: the last LSN in the log when it was opened (0 bytes appended since, at it). */
  constructor(openLsn: number, meanRecordBytes: () => number) {
    this.lsns.push(openLsn);
    this.bytes.push(0);
    this.meanRecordBytes = meanRecordBytes;
  }

  /** The log acknowledged records up to `lsn`, `appendedBytes` bytes having been appended since open. */
  note(lsn: number, appendedBytes: number): void {
    const last = this.lsns.length - 1;
    if (lsn <= (this.lsns[last] as number)) return;
    assert(appendedBytes >= (this.bytes[last] as number), "the log's appended bytes only grow");
    if (this.lsns.length >= LEDGER_SAMPLES_MAX) this.thin();
    this.lsns.push(lsn);
    this.bytes.push(appendedBytes);
  }

  /** Bytes of log after `lsn` (an estimate) when `appendedBytes` have been appended since open. */
  bytesAfter(lsn: number, appendedBytes: number): number {
    return Math.max(0, Math.round(appendedBytes - this.bytesAt(lsn)));
  }

  /** Lets go of samples below `lsn`, keeping the one at or just below it. */
  forgetBelow(lsn: number): void {
    let keep = 0;
    while (keep + 1 < this.lsns.length && (this.lsns[keep + 1] as number) <= lsn) keep++;
    if (keep === 0) return;
    this.lsns = this.lsns.slice(keep);
    this.bytes = this.bytes.slice(keep);
  }

  get samples(): number {
    return this.lsns.length;
  }

  /** Where the end of `lsn` lies, in bytes appended since open (negative: before the open). */
  private bytesAt(lsn: number): number {
    const firstLsn = this.lsns[0] as number;
    if (lsn <= firstLsn) return (this.bytes[0] as number) - (firstLsn - lsn) * this.meanRecordBytes();
    // The last sample at or below lsn, by binary search.
    let low = 0;
    let high = this.lsns.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.lsns[middle] as number) <= lsn) low = middle;
      else high = middle - 1;
    }
    const lsnBelow = this.lsns[low] as number;
    const bytesBelow = this.bytes[low] as number;
    if (low === this.lsns.length - 1) return bytesBelow;
    const lsnAbove = this.lsns[low + 1] as number;
    const bytesAbove = this.bytes[low + 1] as number;
    return bytesBelow + ((bytesAbove - bytesBelow) * (lsn - lsnBelow)) / (lsnAbove - lsnBelow);
  }

  /** Keeps every other sample, and always the newest. */
  private thin(): void {
    const last = this.lsns.length - 1;
    const keep = (_: number, i: number) => i % 2 === 0 || i === last;
    this.lsns = this.lsns.filter(keep);
    this.bytes = this.bytes.filter(keep);
  }
}
