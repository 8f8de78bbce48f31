/**
 * Recent group commits and request counts, for the status page's figures "over the last
 * seconds". Kept in fixed typed arrays: one slot per commit, overwritten in turn.
 */
import type { CommitInfo } from "../../log/index.js";

const COMMITS_KEPT = 2048;

export interface CommitFigures {
  count: number;
  p50Ms: number;
  p99Ms: number;
  batchMean: number;
  batchMax: number;
}

/** What the status page shows of requests and commits. */
export interface StatusFigures {
  recentCommits: CommitFigures;
  requests: number;
  /** Answers 400-499 (a client's abort counts, as 499). */
  clientErrors: number;
  /** Answers 500 and above. */
  serverErrors: number;
}

export class StatusWindow {
  private readonly commitMs = new Float64Array(COMMITS_KEPT);
  private readonly commitRecords = new Uint32Array(COMMITS_KEPT);
  private commits = 0;
  private requests = 0;
  private clientErrors = 0;
  private serverErrors = 0;

  commit(info: CommitInfo): void {
    const slot = this.commits % COMMITS_KEPT;
    this.commitMs[slot] = info.durationMs;
    this.commitRecords[slot] = info.records;
    this.commits++;
  }

  request(status: number): void {
    this.requests++;
    if (status >= 500) this.serverErrors++;
    else if (status >= 400) this.clientErrors++;
  }

  figures(): StatusFigures {
    return {
      recentCommits: this.commitFigures(),
      requests: this.requests,
      clientErrors: this.clientErrors,
      serverErrors: this.serverErrors,
    };
  }

  /** Commit latency percentiles and batch sizes over the kept commits. */
  private commitFigures(): CommitFigures {
    const count = Math.min(this.commits, COMMITS_KEPT);
    if (count === 0) return { count: 0, p50Ms: 0, p99Ms: 0, batchMean: 0, batchMax: 0 };
    const latencies = Array.from(this.commitMs.subarray(0, count)).sort((a, b) => a - b);
    let records = 0;
    let batchMax = 0;
    for (let i = 0; i < count; i++) {
      const n = this.commitRecords[i] as number;
      records += n;
      if (n > batchMax) batchMax = n;
    }
    const at = (q: number) => latencies[Math.min(count - 1, Math.floor(q * count))] as number;
    return { count, p50Ms: at(0.5), p99Ms: at(0.99), batchMean: records / count, batchMax };
  }
}
