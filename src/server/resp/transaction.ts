/**
 * MULTI/EXEC as one log record: while EXEC runs its queued commands (synchronously, one after
 * another), their writes are collected here instead of written, and their reads see them through
 * an overlay on the store's latest state. EXEC then writes the collected operations as a single
 * atomic record, conditioned on the WATCHed keys' versions; each command's reply waits for it.
 */
import type { KeyspaceEntry, KeyspaceOp, Store } from "../../store/index.js";
import type { KeyKind } from "./context.js";

export class Transaction {
  readonly ops: KeyspaceOp[] = [];
  /** Keys this transaction wrote: their entry, or null once deleted. */
  private readonly overlay = new Map<string, KeyspaceEntry | null>();
  /** Ranges it deleted (FLUSHDB), in order: a key in one is absent unless written after. */
  private readonly ranges: { gte: string; lt: string }[] = [];
  private resolve!: (lsn: number) => void;
  private reject!: (error: unknown) => void;
  /** Settles with the record's LSN once durable and applied (or with its failure). */
  readonly committed: Promise<number>;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    this.committed = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Commands attach to it; one that attached nothing must not leave an unhandled rejection.
    this.committed.catch(() => undefined);
  }

  latest(key: string): KeyspaceEntry | undefined {
    const own = this.overlay.get(key);
    if (own !== undefined) return own === null || (own.expiresAt > 0 && own.expiresAt <= this.now()) ? undefined : own;
    if (this.inDeletedRange(key)) return undefined;
    return this.store.keyspace.latest(key);
  }

  kindOf(key: string): KeyKind | undefined {
    const own = this.overlay.get(key);
    if (own !== undefined) return this.latest(key) === undefined ? undefined : "string";
    if (this.inDeletedRange(key)) return undefined;
    return this.store.keyspace.kindOf(key, "latest");
  }

  /** Adds a command's writes; its promise is the transaction's. */
  add(ops: readonly KeyspaceOp[]): Promise<number> {
    for (const op of ops) {
      this.ops.push(op);
      if (op.type === "put") {
        this.overlay.set(op.key, { value: op.value, version: 0, expiresAt: op.expiresAt ?? 0 });
      } else if (op.type === "delete") {
        this.overlay.set(op.key, null);
      } else if (op.type === "expire") {
        const entry = this.latest(op.key);
        if (entry !== undefined) this.overlay.set(op.key, { ...entry, expiresAt: op.expiresAt });
      } else {
        this.ranges.push({ gte: op.gte, lt: op.lt });
        for (const key of this.overlay.keys()) if (key >= op.gte && key < op.lt) this.overlay.set(key, null);
      }
    }
    return this.committed;
  }

  /** Writes the collected operations as one record (none: settles at once, nothing to log). */
  commit(ifVersions: Iterable<[string, number]>): void {
    if (this.ops.length === 0) {
      this.resolve(0);
      return;
    }
    try {
      this.store.keyspace.write(this.ops, { ifVersions }).then(this.resolve, this.reject);
    } catch (error) {
      this.reject(error);
    }
  }

  private inDeletedRange(key: string): boolean {
    for (const range of this.ranges) if (key >= range.gte && key < range.lt) return true;
    return false;
  }
}
