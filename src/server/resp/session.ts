/**
 * One client connection's state as Redis keeps it: its id and name, who it authenticated as
 * (and so which tenant's keys it sees), and its transaction (MULTI's queue, WATCH's versions).
 */
import type { Principal } from "../auth.js";
import { dataPrefix } from "../namespace.js";

/** Ceilings on what one connection may pile up inside MULTI and WATCH. */
export const QUEUED_COMMANDS_MAX = 100_000;
export const WATCHED_KEYS_MAX = 10_000;

export class Session {
  name = "";
  libName = "";
  libVersion = "";
  /** The principal of the last successful AUTH, or the open one when the server has no tokens. */
  principal: Principal | undefined;
  /** `k/<tenant>/`: prefixed to every key this client names. */
  prefix = "";
  /** Commands queued since MULTI (undefined: not in a transaction). */
  queued: string[][] | undefined;
  /** A command refused while queuing: EXEC then answers EXECABORT. */
  queueFailed = false;
  /** Watched keys (internal form) and the version each had when watched. */
  readonly watched = new Map<string, number>();
  /** Set while a command of this client waits (a blocking read), for INFO's blocked_clients and CLIENT LIST. */
  blocked = false;
  lastCommand = "NULL";
  /** CLIENT NO-EVICT and NO-TOUCH: accepted and shown in CLIENT LIST; Logbook evicts no clients and tracks no LRU. */
  noEvict = false;
  noTouch = false;
  /** Set by QUIT: the connection closes once its replies are written. */
  closing = false;
  private readonly connection = new AbortController();
  lastInteraction: number;
  readonly createdAt: number;

  constructor(
    readonly id: number,
    readonly address: string,
    readonly localAddress: string,
    now: number,
  ) {
    this.createdAt = now;
    this.lastInteraction = now;
  }

  /** Aborted once the connection has closed: a command still waiting (a blocking read) lets go then. */
  get disconnected(): AbortSignal {
    return this.connection.signal;
  }

  /** Called by the connection when its socket closes. */
  disconnect(): void {
    this.connection.abort();
  }

  get authenticated(): boolean {
    return this.principal !== undefined;
  }

  signIn(principal: Principal): void {
    this.principal = principal;
    this.prefix = dataPrefix(principal.tenant);
  }

  /** Back to unauthenticated (RESET when the server has tokens). */
  signOut(): void {
    this.principal = undefined;
    this.prefix = "";
  }

  get inMulti(): boolean {
    return this.queued !== undefined;
  }

  /** Leaves MULTI and forgets the watched keys (after EXEC or DISCARD, as Redis does). */
  endTransaction(): void {
    this.queued = undefined;
    this.queueFailed = false;
    this.watched.clear();
  }
}
