/**
 * Retention by age applied when no add comes: a stream whose retention has `maxAgeMs` trims
 * its old entries after each add (stream-apply.ts), and, so that a stream nobody adds to still
 * lets go of them, this sweeper logs a trim below the age limit for each stream whose first
 * entry is older than it. The trim is a logged command like any other: replay trims the same.
 */
import { idFromParts, idMs, type StreamCommand } from "../streams/index.js";
import type { StreamHost } from "./stream-host.js";

/** How often the sweeper looks, unless the store is given another period. */
export const DEFAULT_RETENTION_SWEEP_MS = 1000;

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly host: StreamHost) {}

  start(periodMs: number): void {
    if (periodMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.sweep(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Logs a trim for each stream holding entries older than its `maxAgeMs`; resolves how many it trimmed. */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const nowMs = this.host.clock.wallMs();
      let trimmed = 0;
      for (const key of [...this.host.space.keys()]) {
        const stream = this.host.space.get(key);
        const maxAgeMs = stream?.retention.maxAgeMs ?? 0;
        if (stream === undefined || maxAgeMs <= 0 || stream.length === 0) continue;
        const cutoffMs = Math.floor(nowMs - maxAgeMs);
        if (cutoffMs <= 0 || idMs(stream.firstId) >= BigInt(cutoffMs)) continue;
        const command: StreamCommand = {
          kind: "trim",
          trim: { strategy: "minid", threshold: 0, minId: idFromParts(BigInt(cutoffMs), 0n), approximate: false, limit: 0 },
        };
        // A store closing or failing ends the sweep; the next open's sweeper takes over.
        trimmed += (await this.host.run(key, command).catch(() => 0)) as number;
      }
      return trimmed;
    } finally {
      this.sweeping = false;
    }
  }
}
