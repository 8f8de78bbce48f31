/**
 * `logbook serve`: the server on a data directory (what `npm start` runs). Settings come from
 * flags, then LOGBOOK_* environment variables, then an optional JSON config file, then the
 * defaults. Tokens are never taken from flags, where `ps` would show them.
 */
import { resolve as resolvePath } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  type ConfigInput,
  DEFAULT_CONFIG,
  LogbookServer,
  readConfigFile,
  resolveConfig,
  type ServerConfig,
  tokensFromEnvironment,
} from "../server/index.js";

function integer(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new InvalidArgumentError("must be a whole number");
  return value;
}

function trueOrFalse(text: string): boolean {
  const word = text.trim().toLowerCase();
  if (word === "true") return true;
  if (word === "false") return false;
  throw new InvalidArgumentError("must be true or false");
}

type Setting = [flag: string, key: keyof ServerConfig, description: string, parse?: (text: string) => unknown];

const SETTINGS: Setting[] = [
  ["--data-dir <dir>", "dataDir", "data directory (created if missing)"],
  ["--host <host>", "host", "address to listen on (non-loopback needs tokens)"],
  ["--port <port>", "port", "port to listen on (0: any free one)", integer],
  ["--sync <mode>", "sync", "when a write is acknowledged: always | interval | none"],
  ["--sync-interval-ms <ms>", "syncIntervalMs", "fdatasync period with --sync interval", integer],
  ["--tls-cert <file>", "tlsCert", "PEM certificate: serve HTTPS"],
  ["--tls-key <file>", "tlsKey", "PEM private key of --tls-cert"],
  ["--tls-ca <file>", "tlsCa", "PEM CA: require client certificates it signed (mutual TLS)"],
  ["--body-bytes-max <bytes>", "bodyBytesMax", "largest request body", integer],
  ["--key-bytes-max <bytes>", "keyBytesMax", "longest key, in UTF-8 bytes", integer],
  ["--batch-operations-max <n>", "batchOperationsMax", "most operations in one batch", integer],
  ["--list-limit-max <n>", "listLimitMax", "most keys in one list page", integer],
  ["--list-bytes-max <bytes>", "listBytesMax", "bytes of entries after which a list page ends (it holds one at least)", integer],
  ["--in-flight-writes-max <n>", "inFlightWritesMax", "writes in flight before 429", integer],
  ["--in-flight-bytes-max <bytes>", "inFlightBytesMax", "bytes of writes in flight before 429", integer],
  ["--headers-timeout-ms <ms>", "headersTimeoutMs", "time to receive a request's headers", integer],
  ["--request-timeout-ms <ms>", "requestTimeoutMs", "time to receive a whole request", integer],
  ["--idle-timeout-ms <ms>", "idleTimeoutMs", "a silent connection is closed after this", integer],
  ["--keep-alive-timeout-ms <ms>", "keepAliveTimeoutMs", "an idle keep-alive connection is closed after this", integer],
  ["--connections-max <n>", "connectionsMax", "open connections at most", integer],
  [
    "--drain-timeout-ms <ms>",
    "drainTimeoutMs",
    "on SIGTERM, wait this long for requests in flight, then close their connections",
    integer,
  ],
  ["--idempotency-ttl-ms <ms>", "idempotencyTtlMs", "how long an Idempotency-Key is remembered", integer],
  ["--stream-block-ms-max <ms>", "streamBlockMsMax", "the longest a blocking stream read waits", integer],
  ["--stream-blocked-reads-max <n>", "streamBlockedReadsMax", "blocking stream reads waiting at once before 429", integer],
  ["--resp-port <port>", "respPort", "Redis-protocol port on --host (0: no Redis endpoint)", integer],
  ["--resp-bulk-bytes-max <bytes>", "respBulkBytesMax", "longest key or value a Redis client may send", integer],
  ["--resp-clients-max <n>", "respClientsMax", "Redis clients connected at once", integer],
  ["--resp-idle-timeout-ms <ms>", "respIdleTimeoutMs", "close a silent Redis connection after this long (0: never)", integer],
  ["--resp-output-bytes-max <bytes>", "respOutputBytesMax", "unwritten replies before a Redis client is disconnected", integer],
  [
    "--resp-pipeline-bytes-max <bytes>",
    "respPipelineBytesMax",
    "unanswered pipeline bytes before a Redis client is not read",
    integer,
  ],
  ["--checkpoint-every-bytes <bytes>", "checkpointEveryBytes", "checkpoint after this many log bytes (0: never)", integer],
  ["--segment-bytes <bytes>", "segmentBytes", "size of a log segment file (lower it on small volumes)", integer],
  ["--preallocate <true|false>", "preallocate", "zero-fill each segment when created, and the next ahead", trueOrFalse],
  ["--log-level <level>", "logLevel", "fatal | error | warn | info | debug | trace | silent"],
];

/** "true"/"1" or "false"/"0"; any other text is passed on for the config's check to name. */
function booleanFromEnvironment(text: string | undefined): boolean | string | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const word = text.trim().toLowerCase();
  if (word === "true" || word === "1") return true;
  if (word === "false" || word === "0") return false;
  return text;
}

function environmentName(key: string): string {
  return `LOGBOOK_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

export function registerServeCommand(program: Command): void {
  const command = program.command("serve").description("serve the store of a data directory over HTTP (see docs/http.md)");
  addServeOptions(command);
  command.action(serve);
}

/** The flags, in the order help lists them: the switches, then one per setting, then the tracing note. */
function addServeOptions(command: Command): void {
  command
    .addOption(new Option("--config <file>", "JSON config file (any setting, camelCase, and tokens)").env("LOGBOOK_CONFIG"))
    .addOption(
      new Option("--tokens-file <file>", "JSON list of { token, tenant, access } (or set LOGBOOK_TOKENS=tenant:token,…)").env(
        "LOGBOOK_TOKENS_FILE",
      ),
    )
    .addOption(new Option("--no-checkpoint-on-exit", "do not checkpoint when stopping"))
    .addOption(
      new Option(
        "--no-commit-on-event-loop",
        "never let the event loop write + fdatasync a commit itself at low load (reads never wait behind an fsync)",
      ),
    )
    .addOption(new Option("--no-metrics", "no /metrics (Prometheus)"))
    .addOption(
      new Option(
        "--protect-observability",
        "/metrics and /status.json need a token (default: on unless --host is loopback; or LOGBOOK_PROTECT_OBSERVABILITY=true|false)",
      ),
    )
    .addOption(new Option("--no-protect-observability", "/metrics and /status.json answer without a token"))
    .addOption(new Option("--no-access-log", "no log line per request"));
  for (const [flag, key, description, parse] of SETTINGS) {
    const option = new Option(flag, `${description} (default ${JSON.stringify(DEFAULT_CONFIG[key])})`).env(environmentName(key));
    if (parse !== undefined) option.argParser(parse);
    command.addOption(option);
  }
  command.addHelpText(
    "after",
    "\nTracing: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER=otlp|console) to send OpenTelemetry spans.\n",
  );
}

/** The settings from the config file, then the environment, then the flags (the later wins). */
function configOf(flags: Record<string, unknown>): ServerConfig {
  const fromFile: ConfigInput = typeof flags.config === "string" ? readConfigFile(flags.config) : {};
  const fromEnvironment: ConfigInput = {};
  const tokens = tokensFromEnvironment(process.env.LOGBOOK_TOKENS);
  if (tokens !== undefined) fromEnvironment.tokens = tokens;
  const protect = booleanFromEnvironment(process.env.LOGBOOK_PROTECT_OBSERVABILITY);
  if (protect !== undefined) fromEnvironment.protectObservability = protect;
  const fromFlags: ConfigInput = {};
  for (const [, key] of SETTINGS) if (flags[key] !== undefined) fromFlags[key] = flags[key];
  if (typeof flags.tokensFile === "string") fromFlags.tokensFile = flags.tokensFile;
  // Commander sets checkpointOnExit to true unless --no-checkpoint-on-exit: only "false" is a choice.
  if (flags.checkpointOnExit === false) fromFlags.checkpointOnExit = false;
  if (flags.commitOnEventLoop === false) fromFlags.commitOnEventLoop = false;
  if (flags.metrics === false) fromFlags.metrics = false;
  // Both --protect-observability and its --no- form are defined, so it stays unset unless given.
  if (typeof flags.protectObservability === "boolean") fromFlags.protectObservability = flags.protectObservability;
  if (flags.accessLog === false) fromFlags.accessLog = false;
  const resolved = resolveConfig(fromFile, fromEnvironment, fromFlags);
  // The absolute path, so that the log says which directory a relative --data-dir named.
  return { ...resolved, dataDir: resolvePath(resolved.dataDir) };
}

/** Serves until SIGTERM or SIGINT, then drains and closes; a second signal exits at once. */
async function serve(flags: Record<string, unknown>): Promise<void> {
  const config = configOf(flags);
  let requestShutdown: () => void = () => undefined;
  const server = await LogbookServer.start(config, { onShutdownRequest: () => requestShutdown() });
  const redis = server.resp === undefined ? "" : `, Redis protocol at ${server.resp.url}`;
  process.stderr.write(`logbook: serving ${config.dataDir} at ${server.url} (status page ${server.url}/)${redis}\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    requestShutdown = () => stop("SHUTDOWN");
    const stop = (signal: NodeJS.Signals | "SHUTDOWN") => {
      if (stopping) {
        server.logger.warn({ signal }, "second signal: exiting without a clean shutdown");
        process.exit(1);
      }
      stopping = true;
      server.logger.info({ signal }, "stopping: draining requests, then closing the store");
      server.close().then(resolve, (error: unknown) => {
        server.logger.error({ err: error }, "shutdown failed");
        process.exitCode = 1;
        resolve();
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
