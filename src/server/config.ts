/**
 * The server's configuration: defaults, then an optional JSON config file, then environment
 * variables and flags (the CLI merges those two, flags first). Validated by one schema, so a
 * typo in a file is an error that names the field, not a silently ignored setting.
 */
import { readFileSync } from "node:fs";
import Type, { type Static } from "typebox";
import Value from "typebox/value";
import { LogbookError } from "../errors.js";
import { parseTokenList, type TokenConfig } from "./auth.js";

const TokenSchema = Type.Object(
  {
    token: Type.String(),
    tenant: Type.String(),
    access: Type.Optional(Type.Union([Type.Literal("read"), Type.Literal("read-write")])),
  },
  { additionalProperties: false },
);

const Integer = (minimum: number, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ minimum, maximum });

/** The smallest segment the log takes: its 64-byte header and one batch of the default 4 MiB ceiling. */
const SEGMENT_BYTES_MIN = 4 * 1024 * 1024 + 64;

export const ServerConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    host: Type.String({ minLength: 1 }),
    port: Integer(0, 65535),
    sync: Type.Union([Type.Literal("always"), Type.Literal("interval"), Type.Literal("none")]),
    syncIntervalMs: Integer(1),
    tokens: Type.Array(TokenSchema),
    tlsCert: Type.Optional(Type.String()),
    tlsKey: Type.Optional(Type.String()),
    tlsCa: Type.Optional(Type.String()),
    bodyBytesMax: Integer(1, 64 * 1024 * 1024),
    keyBytesMax: Integer(1, 64 * 1024),
    batchOperationsMax: Integer(1, 100_000),
    listLimitMax: Integer(1, 100_000),
    listBytesMax: Integer(1, 1024 * 1024 * 1024),
    inFlightWritesMax: Integer(1),
    inFlightBytesMax: Integer(1),
    headersTimeoutMs: Integer(1),
    requestTimeoutMs: Integer(1),
    idleTimeoutMs: Integer(1),
    keepAliveTimeoutMs: Integer(1),
    connectionsMax: Integer(1),
    drainTimeoutMs: Integer(0),
    idempotencyTtlMs: Integer(1),
    idempotencySweepMs: Integer(1),
    /** Change-feed streams (GET /v1/changes) open at once; past it a new one gets 429. */
    feedConnectionsMax: Integer(1),
    /** An SSE comment on each feed stream this often, under proxies' and the server's idle timeouts. */
    feedHeartbeatMs: Integer(100),
    /** A feed cursor further behind than this many bytes of log is dropped at the next checkpoint. */
    feedCursorLagBytesMax: Integer(1),
    /** The longest a blocking stream read may wait; it also stays under idleTimeoutMs (see stream-reads.ts). */
    streamBlockMsMax: Integer(1, 24 * 60 * 60 * 1000),
    /** Blocking stream reads waiting at once over HTTP; past it a new one gets 429. */
    streamBlockedReadsMax: Integer(1),
    /** The Redis-protocol endpoint's port on `host` (0: no Redis endpoint). */
    respPort: Integer(0, 65535),
    /** Longest key or value a Redis client may send (the store's value limit follows it), in bytes. */
    respBulkBytesMax: Integer(1, 64 * 1024 * 1024),
    /** Most arguments in one Redis command. */
    respMultibulkCountMax: Integer(1, 1024 * 1024),
    /** Longest inline Redis command line, in bytes. */
    respInlineBytesMax: Integer(16, 1024 * 1024),
    /** Replies waiting to be written to one Redis client before it is disconnected, in bytes. */
    respOutputBytesMax: Integer(1024),
    /** Bytes of one Redis client's pipeline (received, unanswered) above which it is not read until it drains. */
    respPipelineBytesMax: Integer(1024),
    /** Redis clients connected at once. */
    respClientsMax: Integer(1),
    /** A Redis connection with no traffic this long is closed (0: never, Redis's default `timeout`). */
    respIdleTimeoutMs: Integer(0),
    checkpointEveryBytes: Integer(0),
    /** A log segment file's size: it holds its 64-byte header and the log's largest batch (4 MiB). */
    segmentBytes: Integer(SEGMENT_BYTES_MIN, 1024 * 1024 * 1024),
    /** Zero-fill each segment when it is created (and the next one ahead of time). */
    preallocate: Type.Boolean(),
    checkpointOnExit: Type.Boolean(),
    commitOnEventLoop: Type.Boolean(),
    metrics: Type.Boolean(),
    /** /metrics and /status.json need a token; resolveConfig defaults it to "not loopback". */
    protectObservability: Type.Optional(Type.Boolean()),
    accessLog: Type.Boolean(),
    logLevel: Type.Union([
      Type.Literal("fatal"),
      Type.Literal("error"),
      Type.Literal("warn"),
      Type.Literal("info"),
      Type.Literal("debug"),
      Type.Literal("trace"),
      Type.Literal("silent"),
    ]),
  },
  { additionalProperties: false },
);

export type ServerConfig = Static<typeof ServerConfigSchema>;

export const DEFAULT_CONFIG: ServerConfig = {
  dataDir: "data",
  host: "127.0.0.1",
  port: 7070,
  sync: "always",
  syncIntervalMs: 100,
  tokens: [],
  bodyBytesMax: 1024 * 1024,
  keyBytesMax: 1024,
  batchOperationsMax: 1000,
  listLimitMax: 1000,
  listBytesMax: 4 * 1024 * 1024,
  inFlightWritesMax: 8192,
  inFlightBytesMax: 64 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  connectionsMax: 10_000,
  drainTimeoutMs: 10_000,
  idempotencyTtlMs: 24 * 60 * 60 * 1000,
  idempotencySweepMs: 60_000,
  feedConnectionsMax: 256,
  feedHeartbeatMs: 15_000,
  feedCursorLagBytesMax: 1024 * 1024 * 1024,
  streamBlockMsMax: 30_000,
  streamBlockedReadsMax: 1024,
  respPort: 6379,
  // Below the log's largest batch (4 MiB) with room for the key and the record's framing.
  respBulkBytesMax: 4 * 1024 * 1024 - 64 * 1024,
  respMultibulkCountMax: 1024 * 1024,
  respInlineBytesMax: 64 * 1024,
  respOutputBytesMax: 64 * 1024 * 1024,
  respPipelineBytesMax: 16 * 1024 * 1024,
  respClientsMax: 10_000,
  respIdleTimeoutMs: 0,
  checkpointEveryBytes: 64 * 1024 * 1024,
  segmentBytes: 64 * 1024 * 1024,
  preallocate: true,
  checkpointOnExit: true,
  commitOnEventLoop: true,
  metrics: true,
  accessLog: true,
  logLevel: "info",
};

/** Config as it arrives from a file, the environment or flags: any subset, not yet checked. */
export type ConfigInput = Partial<Record<keyof ServerConfig, unknown>> & { tokensFile?: unknown };

/** Merges inputs over the defaults (later ones win) and checks the result. */
export function resolveConfig(...inputs: ConfigInput[]): ServerConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const input of inputs) {
    for (const [name, value] of Object.entries(input)) {
      if (value === undefined) continue;
      if (name === "tokensFile") merged.tokens = readTokensFile(String(value));
      else merged[name] = value;
    }
  }
  const errors = [...Value.Errors(ServerConfigSchema, merged)];
  if (errors.length > 0) {
    const described = errors.slice(0, 5).map((error) => {
      const field = error.instancePath.replace(/^\//, "").replaceAll("/", ".") || "(config)";
      const extra = (error.params as { additionalProperties?: string[] }).additionalProperties;
      return extra === undefined ? `${field}: ${error.message}` : `unknown setting ${extra.join(", ")}`;
    });
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `invalid server configuration: ${described.join("; ")}`);
  }
  const config = merged as ServerConfig;
  // Observability figures are open on loopback (the machine's own users) and need a token
  // beyond it, unless a setting says otherwise.
  config.protectObservability ??= !isLoopback(config.host);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", "TLS needs both a certificate and a key (--tls-cert and --tls-key)");
  }
  if (config.tlsCa !== undefined && config.tlsCert === undefined) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", "mutual TLS (--tls-ca) needs --tls-cert and --tls-key too");
  }
  return config;
}

/** A JSON config file: an object with any of the settings (camelCase), tokens included. */
export function readConfigFile(path: string): ConfigInput {
  const parsed = readJson(path, "config file");
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `config file ${path} must hold a JSON object`);
  }
  return parsed as ConfigInput;
}

/** A tokens file: `[{ token, tenant, access? }]` or `{ "tokens": [...] }`. */
export function readTokensFile(path: string): TokenConfig[] {
  const parsed = readJson(path, "tokens file");
  const list = Array.isArray(parsed) ? parsed : (parsed as { tokens?: unknown })?.tokens;
  if (!Array.isArray(list)) throw new LogbookError("LOGBOOK_INVALID_OPTION", `tokens file ${path} must list tokens`);
  return list as TokenConfig[];
}

export function tokensFromEnvironment(text: string | undefined): TokenConfig[] | undefined {
  return text === undefined || text.trim() === "" ? undefined : parseTokenList(text);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `cannot read the ${what} ${path}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `the ${what} ${path} is not valid JSON`, { cause: error });
  }
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}
