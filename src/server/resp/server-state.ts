/**
 * What the server commands remember between calls, for the whole endpoint (as Redis keeps it in
 * its server struct): the values CONFIG SET gave the tunables Logbook accepts and ignores, the
 * outcome of the last SAVE, BGSAVE and BGREWRITEAOF (each a store checkpoint), DEBUG
 * SET-ACTIVE-EXPIRE, and the peak memory INFO reports.
 */
import { randomBytes } from "node:crypto";
import type { Store } from "../../store/index.js";

export class ServerState {
  /** INFO's run_id: a random 40-hex-digit id of this server's run. */
  readonly runId = randomBytes(20).toString("hex");
  /** INFO's master_replid: another random id, as Redis's replication id differs from its run id. */
  readonly replicationId = randomBytes(20).toString("hex");
  /** CONFIG SET values of parameters that change nothing in Logbook (encodings, slowlog), by canonical name. */
  readonly tunables = new Map<string, string>();
  /** DEBUG SET-ACTIVE-EXPIRE: recorded only; the store's expiry sweeper keeps running. */
  activeExpire = true;
  /** Whether the last checkpoint a command asked for succeeded (INFO's rdb_last_bgsave_status). */
  lastSaveOk = true;
  /** BGREWRITEAOF calls that started a checkpoint (INFO's aof_rewrites). */
  aofRewrites = 0;
  memoryPeakBytes = 0;

  /**
   * Starts a store checkpoint in the background (BGSAVE, BGREWRITEAOF). Its failure is kept for
   * INFO; the log still holds every write, so nothing is lost when it fails.
   */
  startCheckpoint(store: Store): void {
    store.checkpoint().then(
      () => {
        this.lastSaveOk = true;
      },
      () => {
        this.lastSaveOk = false;
      },
    );
  }

  /** A checkpoint now (SAVE): resolves once it is installed, rejects when it fails. */
  async checkpoint(store: Store): Promise<void> {
    try {
      await store.checkpoint();
      this.lastSaveOk = true;
    } catch (error) {
      this.lastSaveOk = false;
      throw error;
    }
  }

  /** Heap in use by this process, and the most seen so far (INFO's used_memory, used_memory_peak). */
  memory(): { usedBytes: number; peakBytes: number; rssBytes: number } {
    const usage = process.memoryUsage();
    const usedBytes = usage.heapUsed + usage.external;
    this.memoryPeakBytes = Math.max(this.memoryPeakBytes, usedBytes);
    return { usedBytes, peakBytes: this.memoryPeakBytes, rssBytes: usage.rss };
  }
}
