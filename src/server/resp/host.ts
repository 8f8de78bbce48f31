/**
 * What the endpoint offers the commands that look beyond their own connection (INFO, CLIENT,
 * CONFIG, COMMAND, SHUTDOWN): implemented by RespServer.
 */
import type { Store } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import type { CommandTable } from "./command-spec.js";
import type { ServerState } from "./server-state.js";
import type { Session } from "./session.js";
import type { RespSettings } from "./settings.js";
import type { RespStats } from "./stats.js";

export interface RespHost {
  readonly commands: CommandTable;
  readonly stats: RespStats;
  readonly authenticator: Authenticator;
  readonly settings: RespSettings;
  readonly store: Store;
  /** The TCP port the endpoint listens on. */
  readonly port: number;
  /** The address it listens on, as configured (`127.0.0.1`, `0.0.0.0`, `::`). */
  readonly bindAddress: string;
  /** What the server commands keep between calls (CONFIG SET values, the last save's outcome). */
  readonly state: ServerState;
  readonly tls: boolean;
  /** The sessions of the connections open now. */
  sessions(): Iterable<Session>;
  /** Clients waiting in a blocking command now. */
  blockedClients(): number;
  /** Closes the connection of client `id`; false when there is none. */
  killClient(id: number): boolean;
  /** Closes the store and opens it again from its checkpoint and log (DEBUG LOADAOF). */
  reopenStore(): Promise<void>;
  /** Stops the whole server (SHUTDOWN): as SIGTERM does. */
  shutdown(): void;
}
