/**
 * Forgets recorded idempotent responses once their window has passed. Expired records are
 * already ignored when read; sweeping only gives their memory back. Each deletion is
 * conditional on the record's version, so a record written again meanwhile is kept.
 */
import type { Store } from "../store/index.js";

const SWEEP_BATCH_MAX = 500;

export async function sweepExpired(store: Store, nowMs: number): Promise<number> {
  const expired: [string, number][] = [];
  for await (const entry of store.scan({ prefix: "i/" })) {
    let expiresMs: number;
    try {
      expiresMs = (JSON.parse(entry.value as string) as { e: number }).e;
    } catch {
      continue;
    }
    if (expiresMs <= nowMs) expired.push([entry.key as string, entry.version]);
    if (expired.length === SWEEP_BATCH_MAX) break;
  }
  if (expired.length === 0 || store.failure !== undefined) return 0;
  await store.batch(
    expired.map(([key]) => ({ type: "delete", key })),
    { ifVersions: expired },
  );
  return expired.length;
}

export class IdempotencySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly store: Store,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = sweepExpired(this.store, Date.now())
        .catch((error: unknown) => {
          // A conflict means a record was written again meanwhile: the next sweep gets the rest.
          if ((error as { code?: string }).code !== "LOGBOOK_CONFLICT") this.onError(error);
        })
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
