/**
 * The Redis-protocol endpoint: a TCP (or TLS) listener on node:net whose connections speak RESP
 * to the same store, tenants and tokens as the HTTP API.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Logger } from "pino";
import type { Store } from "../../store/index.js";
import type { Admission } from "../admission.js";
import { type Authenticator, OPEN_TENANT } from "../auth.js";
import { asListenError } from "../listen-error.js";
import type { CommandObserver } from "../telemetry/index.js";
import type { TlsSettings } from "../tls-settings.js";
import { endAndLinger } from "./closing.js";
import { CommandTable } from "./command-spec.js";
import { allCommands } from "./commands/index.js";
import { RespConnection } from "./connection.js";
import { CommandContext } from "./context.js";
import type { RespHost } from "./host.js";
import { errorReply } from "./reply.js";
import { ServerState } from "./server-state.js";
import { Session } from "./session.js";
import type { RespSettings } from "./settings.js";
import { RespStats } from "./stats.js";

export interface RespServerOptions {
  store: Store;
  authenticator: Authenticator;
  admission: Admission;
  settings: RespSettings;
  logger: Logger;
  tls: TlsSettings | undefined;
  /** What SHUTDOWN does: stops the whole server, as SIGTERM would. */
  shutdown: () => void;
  /** What DEBUG LOADAOF does: closes the store and opens it again from its checkpoint and log. */
  reopenStore: () => Promise<void>;
  /** Where commands are observed (metrics, log lines, traces), as HTTP requests are. */
  observer?: CommandObserver;
}

const COMMANDS = new CommandTable(allCommands());

export class RespServer implements RespHost {
  readonly commands = COMMANDS;
  readonly stats: RespStats;
  readonly state = new ServerState();
  bindAddress = "";
  readonly store: Store;
  readonly authenticator: Authenticator;
  readonly settings: RespSettings;
  private readonly admission: Admission;
  private readonly logger: Logger;
  private readonly onShutdown: () => void;
  private readonly onReopenStore: () => Promise<void>;
  private readonly server: Server;
  private readonly connections = new Map<number, { session: Session; connection: RespConnection }>();
  private nextClientId = 1;
  readonly tls: boolean;

  constructor(options: RespServerOptions) {
    this.store = options.store;
    this.authenticator = options.authenticator;
    this.admission = options.admission;
    this.settings = options.settings;
    this.logger = options.logger;
    this.onShutdown = options.shutdown;
    this.onReopenStore = options.reopenStore;
    this.stats = new RespStats(options.observer);
    this.tls = options.tls !== undefined;
    const accept = (socket: Socket) => this.accept(socket);
    this.server = options.tls === undefined ? createServer(accept) : createTlsServer(options.tls, accept);
    this.server.on("tlsClientError", (_error: Error, socket: Socket) => socket.destroy());
    options.observer?.endpointOpened(this);
  }

  async listen(host: string, port: number): Promise<void> {
    this.bindAddress = host;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(asListenError(error, host, port));
      this.server.once("error", failed);
      this.server.listen({ host, port }, () => {
        this.server.off("error", failed);
        resolve();
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  get url(): string {
    const address = this.server.address();
    if (typeof address !== "object" || address === null) return "";
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `${this.tls ? "rediss" : "redis"}://${host}:${address.port}`;
  }

  private accept(socket: Socket): void {
    this.stats.connectionsReceived++;
    if (this.connections.size >= this.settings.clientsMax) {
      this.stats.refused("clients_max");
      refuse(socket, "ERR max number of clients reached");
      return;
    }
    const id = this.nextClientId++;
    const now = Date.now();
    const session = new Session(
      id,
      `${socket.remoteAddress}:${socket.remotePort}`,
      `${socket.localAddress}:${socket.localPort}`,
      now,
    );
    if (!this.authenticator.enabled) session.signIn({ tenant: OPEN_TENANT, access: "read-write" });
    const context = new CommandContext(this.store, session, this, this.admission);
    const connection = new RespConnection(
      socket,
      context,
      this.settings,
      this.stats,
      this.admission,
      () => this.connections.delete(id),
      (error) => this.logger.error({ err: error, clientId: id }, "serving a Redis client failed; its connection was closed"),
    );
    this.connections.set(id, { session, connection });
  }

  /** Bytes held for all clients: unparsed input, and replies not yet written (read when metrics are scraped). */
  bufferedBytes(): number {
    let bytes = 0;
    for (const { connection } of this.connections.values()) bytes += connection.bufferedBytes;
    return bytes;
  }

  *sessions(): Iterable<Session> {
    for (const { session } of this.connections.values()) yield session;
  }

  blockedClients(): number {
    let blocked = 0;
    for (const { session } of this.connections.values()) if (session.blocked) blocked++;
    return blocked;
  }

  get clientCount(): number {
    return this.connections.size;
  }

  killClient(id: number): boolean {
    const found = this.connections.get(id);
    if (found === undefined) return false;
    found.connection.destroy();
    return true;
  }

  reopenStore(): Promise<void> {
    return this.onReopenStore();
  }

  shutdown(): void {
    this.logger.info("SHUTDOWN received on the Redis endpoint");
    this.onShutdown();
  }

  /**
   * Stops listening, stops reading from every connection, lets each write out the replies of
   * the commands it already took (for at most `drainMs`), then closes them. A command past the
   * deadline got no reply, so it was not acknowledged.
   */
  async close(drainMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const finishing = [...this.connections.values()].map(({ connection }) => connection.finish());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainMs);
    });
    await Promise.race([Promise.all(finishing), deadline]);
    clearTimeout(timer);
    for (const { connection } of this.connections.values()) connection.destroy();
    await closed;
  }
}

/** Answers a connection that is not served with one error reply and closes it (closing.ts). */
function refuse(socket: Socket, message: string): void {
  socket.on("error", () => socket.destroy());
  endAndLinger(socket, errorReply(message));
}
