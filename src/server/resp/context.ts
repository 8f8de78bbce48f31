/**
 * What a command sees: the store through the tenant's namespace, the client's session, and the
 * endpoint (for server commands). Commands read and write through it, never through the store
 * directly, so that inside EXEC their writes join the transaction's one record and their reads
 * see the transaction's own writes (transaction.ts).
 *
 * Views: outside a transaction a read sees the acknowledged state (what the log has made durable
 * under sync "always"); a read-modify-write (INCR, APPEND, SET … GET) reads `latest`, every write
 * sequenced so far, and writes in the same synchronous step, so no other write comes between and
 * its reply, sent once its own record is durable, only names durable writes.
 */
import { LogbookError } from "../../errors.js";
import type { KeyspaceEntry, KeyspaceOp, Store } from "../../store/index.js";
import type { Admission } from "../admission.js";
import type { RespHost } from "./host.js";
import { RespError } from "./reply.js";
import type { Session } from "./session.js";
import type { Transaction } from "./transaction.js";

export type KeyKind = "string" | "stream";

export class CommandContext {
  /** Set while EXEC runs its queued commands: writes join it, reads see it. */
  transaction: Transaction | undefined;

  constructor(
    readonly store: Store,
    readonly session: Session,
    readonly host: RespHost,
    private readonly admission: Admission,
  ) {}

  /** The store key of a key the client names (its tenant's prefix added). */
  key(name: string): string {
    return this.session.prefix + name;
  }

  /** The name the client knows a store key by (its tenant's prefix removed). */
  userKey(internal: string): string {
    return internal.startsWith(this.session.prefix) ? internal.slice(this.session.prefix.length) : internal;
  }

  /** The tenant's whole key range, [gte, lt): for KEYS, SCAN, DBSIZE, FLUSHDB. */
  get range(): { gte: string; lt: string } {
    const prefix = this.session.prefix;
    // Prefixes end in "/"; the next char, "0", bounds every key that starts with the prefix.
    return { gte: prefix, lt: `${prefix.slice(0, -1)}0` };
  }

  now(): number {
    return Date.now();
  }

  /** A string key as a read sees it: acknowledged state, or inside EXEC the transaction's view. Streams throw WRONGTYPE. */
  read(key: string): KeyspaceEntry | undefined {
    if (this.transaction !== undefined) return this.transaction.latest(key);
    return this.store.keyspace.get(key);
  }

  /** A string key as of every write sequenced so far (and the transaction's own): for read-modify-write. */
  latest(key: string): KeyspaceEntry | undefined {
    if (this.transaction !== undefined) return this.transaction.latest(key);
    return this.store.keyspace.latest(key);
  }

  kindOf(key: string, view: "applied" | "latest" = "applied"): KeyKind | undefined {
    if (this.transaction !== undefined) return this.transaction.kindOf(key);
    return this.store.keyspace.kindOf(key, view);
  }

  /**
   * Writes `ops` as one record (inside EXEC: adds them to the transaction's record). Sequenced
   * before it returns; the promise resolves once the record is durable and applied.
   */
  write(ops: KeyspaceOp[]): Promise<number> {
    this.checkWritable();
    if (this.transaction !== undefined) return this.transaction.add(ops);
    const bytes = opsBytes(ops);
    if (!this.admission.tryEnter(bytes)) return Promise.reject(this.admission.overloadedError());
    let written: Promise<number>;
    try {
      written = this.store.keyspace.write(ops);
    } catch (error) {
      this.admission.leave(bytes);
      return Promise.reject(error);
    }
    return written.finally(() => this.admission.leave(bytes));
  }

  /**
   * Runs a write the store logs by itself (a stream command) under the checks and admission
   * `write` applies: it holds `bytes` of the in-flight bound until it settles, or with `hold`
   * false only checks that there is room (a blocking group read, which may wait far longer than
   * a write takes).
   */
  admit<T>(bytes: number, work: () => Promise<T>, hold = true): Promise<T> {
    this.checkWritable();
    if (!this.admission.tryEnter(hold ? bytes : 0)) return Promise.reject(this.admission.overloadedError());
    if (!hold) this.admission.leave(0);
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      if (hold) this.admission.leave(bytes);
      return Promise.reject(error);
    }
    return hold ? running.finally(() => this.admission.leave(bytes)) : running;
  }

  /** Refuses a write from a read-only principal or to a store that can no longer write. */
  checkWritable(): void {
    if (this.session.principal?.access === "read") {
      throw new RespError("NOPERM this user has no permissions to run this command (its token is read-only)");
    }
    const failure = this.store.failure;
    if (failure !== undefined) throw new LogbookError("LOGBOOK_LOG_FAILED", failure.message);
  }
}

function opsBytes(ops: readonly KeyspaceOp[]): number {
  let bytes = 0;
  for (const op of ops) bytes += 16 + (op.type === "deleteRange" ? op.gte.length + op.lt.length : op.key.length);
  for (const op of ops) if (op.type === "put") bytes += op.value.length;
  return bytes;
}
