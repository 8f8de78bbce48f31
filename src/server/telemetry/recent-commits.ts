/**
 * The last few group commits, so that a traced write can find the one that covered its LSN
 * and its spans can show that commit and its fdatasync.
 */
import type { CommitInfo } from "../../log/index.js";

export interface CommitObservation extends CommitInfo {
  /** performance.now() when the commit was seen acknowledged. */
  seenMs: number;
}

const RECENT_COMMITS_KEPT = 64;

export class RecentCommits {
  private readonly commits: (CommitInfo | undefined)[];
  private readonly seenMs: Float64Array;
  private added = 0;

  constructor(private readonly capacity = RECENT_COMMITS_KEPT) {
    this.commits = new Array(capacity).fill(undefined);
    this.seenMs = new Float64Array(capacity);
  }

  /** Called for every group commit: a slot in a ring, no copy. */
  add(info: CommitInfo): void {
    const slot = this.added % this.capacity;
    this.commits[slot] = info;
    this.seenMs[slot] = performance.now();
    this.added++;
  }

  /** The kept commit whose LSNs hold `lsn`, newest first; undefined once it left the ring. */
  find(lsn: number): CommitObservation | undefined {
    for (let i = this.added - 1; i >= 0 && i >= this.added - this.capacity; i--) {
      const slot = i % this.capacity;
      const commit = this.commits[slot] as CommitInfo;
      if (commit.firstLsn <= lsn && lsn <= commit.lastLsn) return { ...commit, seenMs: this.seenMs[slot] as number };
      if (commit.lastLsn < lsn) return undefined;
    }
    return undefined;
  }
}
