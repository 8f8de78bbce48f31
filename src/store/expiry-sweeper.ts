/**
 * Active expiry: a key past its expiry time is absent to every read at once, and this sweeper
 * logs its delete so that its memory is freed, and replay (which never reads the clock) reaches
 * the same state. Every `expirySweepMs` it takes the keys due from the expiry index (soonest
 * first, never the whole keyspace), keeps those whose newest sequenced state still expires by
 * now (a key put again without an expiry, or given a later one, meanwhile is left alone), and
 * logs their deletes as one record, in the same synchronous step. A sweep waits for its record
 * to be applied before the next begins, so no key is deleted twice.
 */
import type { ExpiryIndex } from "./expiry-index.js";
import { HOLDS_STREAM, type KeyspaceState } from "./keyspace-state.js";
import type { KeyspaceOp, KeyspaceWriter } from "./keyspace-write.js";

/** How often the sweeper looks, unless the store is given another period. */
export const DEFAULT_EXPIRY_SWEEP_MS = 100;
/** Keys one sweep deletes at most: its record's operations. */
export const EXPIRY_SWEEP_KEYS_MAX = 1000;
/** Key bytes one sweep's record holds at most (it must fit in one commit of the log). */
export const EXPIRY_SWEEP_KEY_BYTES_MAX = 256 * 1024;
/** Sweeps one tick of the timer runs at most while each one finds a full record of due keys. */
export const EXPIRY_SWEEPS_PER_TICK_MAX = 10;

/** What the sweeper needs of its store. */
export interface ExpirySweeperParts {
  index: ExpiryIndex;
  view: KeyspaceState;
  writer: KeyspaceWriter;
  wallMs(): number;
  /** Key bytes a sweep's record may hold: at most EXPIRY_SWEEP_KEY_BYTES_MAX, less for a log with small commits. */
  keyBytesMax: number;
}

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly parts: ExpirySweeperParts) {}

  start(periodMs: number): void {
    if (periodMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.tick(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Logs the deletes of keys past their expiry time, one record of at most EXPIRY_SWEEP_KEYS_MAX;
   * resolves how many it deleted once they are applied (0 when another sweep is running). A
   * store that fails or closes ends the sweep; the next open's sweeper takes over.
   */
  async sweep(): Promise<number> {
    if (this.sweeping || this.parts.index.size === 0) return 0;
    this.sweeping = true;
    try {
      const nowMs = this.parts.wallMs();
      const ops: KeyspaceOp[] = [];
      let keyBytes = 0;
      for (const key of this.parts.index.due(nowMs, EXPIRY_SWEEP_KEYS_MAX)) {
        if (keyBytes + key.length > this.parts.keyBytesMax) break;
        const held = this.parts.view.newest(key);
        if (held === undefined || held === HOLDS_STREAM || held.expiresAt === 0 || held.expiresAt > nowMs) continue;
        ops.push({ type: "delete", key });
        keyBytes += key.length;
      }
      if (ops.length === 0) return 0;
      return await this.parts.writer.write(ops, []).then(
        () => ops.length,
        () => 0,
      );
    } finally {
      this.sweeping = false;
    }
  }

  private async tick(): Promise<void> {
    for (let i = 0; i < EXPIRY_SWEEPS_PER_TICK_MAX && this.timer !== undefined; i++) {
      if ((await this.sweep()) < EXPIRY_SWEEP_KEYS_MAX) return;
    }
  }
}
