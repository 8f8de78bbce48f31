/**
 * The parameters CONFIG GET and CONFIG SET know (config.c's table, cut down to what clients,
 * tools and Redis's tests read or set), each with where its value comes from and what setting it
 * does. Four kinds:
 *
 * - Facts (port, maxclients, appendonly, …): read from the running server. Setting one to the
 *   value it has is accepted; any other value is refused, naming what Logbook would need.
 * - appendfsync: Logbook's sync mode as Redis names it. Every write is as durable as the server's
 *   sync setting, whatever a client asks: a value as strong or weaker is accepted and changes
 *   nothing (nothing weaker is ever promised), a stronger one is refused.
 * - Tunables of Redis's in-memory encodings and diagnostics (stream-node-max-entries,
 *   hash-max-listpack-entries, slowlog-*): accepted, checked as Redis checks them, remembered
 *   for CONFIG GET, and without effect on Logbook.
 * - Immutable ones (daemonize, databases, …): refused with Redis's text.
 */
import type { RespHost } from "../host.js";
import { APPENDFSYNC_OF_SYNC } from "./info-sections.js";

export interface ConfigParameter {
  name: string;
  get(host: RespHost): string;
  /** Checks and applies `value`: the reason after " - " in Redis's error when refused, undefined when done. */
  set(host: RespHost, value: string): string | undefined;
}

const IMMUTABLE = "can't set immutable config";
const NOT_INTEGER = "argument couldn't be parsed into an integer";

/** Redis's strtoll-based reading of a numeric config value (an integer with an optional sign). */
function readInteger(value: string): bigint | undefined {
  return /^[+-]?\d{1,19}$/.test(value) ? BigInt(value) : undefined;
}

/** A value of the running server: settable only to what it already is. */
function fact(name: string, value: (host: RespHost) => string, needs: string): ConfigParameter {
  return {
    name,
    get: value,
    set: (host, given) =>
      given.toLowerCase() === value(host).toLowerCase() ? undefined : `Logbook does not support changing it: ${needs}`,
  };
}

function immutable(name: string, value: (host: RespHost) => string): ConfigParameter {
  return { name, get: value, set: () => IMMUTABLE };
}

/** A tunable that changes nothing in Logbook: an integer in [min, max], remembered under `key`. */
function integerTunable(name: string, fallback: number, min: bigint, max: bigint, key = name): ConfigParameter {
  return {
    name,
    get: (host) => host.state.tunables.get(key) ?? String(fallback),
    set(host, value) {
      const parsed = readInteger(value);
      if (parsed === undefined) return NOT_INTEGER;
      if (parsed < min || parsed > max) return `argument must be between ${min} and ${max} inclusive`;
      host.state.tunables.set(key, String(parsed));
      return undefined;
    },
  };
}

function booleanTunable(name: string, fallback: "yes" | "no"): ConfigParameter {
  return {
    name,
    get: (host) => host.state.tunables.get(name) ?? fallback,
    set(host, value) {
      const lower = value.toLowerCase();
      if (lower !== "yes" && lower !== "no") return "argument must be 'yes' or 'no'";
      host.state.tunables.set(name, lower);
      return undefined;
    },
  };
}

/** Sync modes from weakest to strongest, in Redis's names. */
const APPENDFSYNC_STRENGTH = ["no", "everysec", "always"];

const appendfsync: ConfigParameter = {
  name: "appendfsync",
  get: (host) => APPENDFSYNC_OF_SYNC[host.store.logStats.sync],
  set(host, value) {
    const asked = APPENDFSYNC_STRENGTH.indexOf(value.toLowerCase());
    if (asked === -1) return "argument(s) must be one of the following: everysec, always, no";
    const own = APPENDFSYNC_STRENGTH.indexOf(APPENDFSYNC_OF_SYNC[host.store.logStats.sync]);
    if (asked > own) {
      return `Logbook's sync mode is ${host.store.logStats.sync}; a stronger one needs a restart with --sync always`;
    }
    return undefined;
  },
};

/** appendonly: the log is always on; `no` is accepted like a weaker appendfsync, and changes nothing. */
const appendonly: ConfigParameter = {
  name: "appendonly",
  get: () => "yes",
  set: (_host, value) => (["yes", "no"].includes(value.toLowerCase()) ? undefined : "argument must be 'yes' or 'no'"),
};

const MAX_INT = 2n ** 31n - 1n;
const MAX_LONG = 2n ** 63n - 1n;

/** Every known parameter; Redis 7.0's old names (`*-ziplist-*`) share the value of the new ones. */
export const CONFIG_PARAMETERS: readonly ConfigParameter[] = [
  appendonly,
  appendfsync,
  fact("save", () => "", "Logbook checkpoints by log size (--checkpoint-every-bytes), not on a schedule"),
  fact("maxmemory", () => "0", "Logbook keeps no memory limit and evicts nothing"),
  fact("maxmemory-policy", () => "noeviction", "Logbook evicts nothing"),
  fact("maxclients", (host) => String(host.settings.clientsMax), "set --resp-clients-max and restart"),
  fact("proto-max-bulk-len", (host) => String(host.settings.bulkBytesMax), "set --resp-bulk-bytes-max and restart"),
  fact(
    "client-query-buffer-limit",
    (host) => String(host.settings.pipelineBytesMax),
    "set --resp-pipeline-bytes-max and restart",
  ),
  fact("timeout", () => "0", "Logbook closes no idle Redis client"),
  fact("notify-keyspace-events", () => "", "Logbook has no keyspace notifications"),
  fact("dir", (host) => host.store.directory, "set --data-dir and restart"),
  fact("requirepass", () => "", "Logbook's tokens are configured with --tokens-file"),
  fact("port", (host) => String(host.port), "set --resp-port and restart"),
  fact("bind", (host) => host.bindAddress, "set --host and restart"),
  fact("tls-port", (host) => (host.tls ? String(host.port) : "0"), "Logbook serves TLS on the Redis port itself (--tls-cert)"),
  fact("replicaof", () => "", "Logbook has no replicas"),
  fact("slaveof", () => "", "Logbook has no replicas"),
  immutable("databases", () => "1"),
  immutable("daemonize", () => "no"),
  immutable("supervised", () => "no"),
  immutable("io-threads", () => "1"),
  immutable("cluster-enabled", () => "no"),
  immutable("enable-debug-command", () => "yes"),
  immutable("unixsocket", () => ""),
  booleanTunable("aof-use-rdb-preamble", "yes"),
  booleanTunable("activerehashing", "yes"),
  booleanTunable("lazyfree-lazy-user-del", "no"),
  booleanTunable("lazyfree-lazy-expire", "no"),
  booleanTunable("lazyfree-lazy-server-del", "no"),
  integerTunable("stream-node-max-entries", 100, 0n, MAX_LONG),
  integerTunable("stream-node-max-bytes", 4096, 0n, MAX_LONG),
  integerTunable("hash-max-listpack-entries", 512, 0n, MAX_LONG),
  integerTunable("hash-max-ziplist-entries", 512, 0n, MAX_LONG, "hash-max-listpack-entries"),
  integerTunable("hash-max-listpack-value", 64, 0n, MAX_LONG),
  integerTunable("hash-max-ziplist-value", 64, 0n, MAX_LONG, "hash-max-listpack-value"),
  integerTunable("zset-max-listpack-entries", 128, 0n, MAX_LONG),
  integerTunable("zset-max-ziplist-entries", 128, 0n, MAX_LONG, "zset-max-listpack-entries"),
  integerTunable("zset-max-listpack-value", 64, 0n, MAX_LONG),
  integerTunable("zset-max-ziplist-value", 64, 0n, MAX_LONG, "zset-max-listpack-value"),
  integerTunable("set-max-intset-entries", 512, 0n, MAX_LONG),
  integerTunable("list-max-listpack-size", -2, -5n, MAX_INT),
  integerTunable("list-max-ziplist-size", -2, -5n, MAX_INT, "list-max-listpack-size"),
  integerTunable("list-compress-depth", 0, 0n, MAX_INT),
  integerTunable("hz", 10, 0n, MAX_INT),
  integerTunable("busy-reply-threshold", 5000, 0n, MAX_LONG),
  integerTunable("lua-time-limit", 5000, 0n, MAX_LONG, "busy-reply-threshold"),
  integerTunable("slowlog-log-slower-than", 10_000, -1n, MAX_LONG),
  integerTunable("slowlog-max-len", 128, 0n, MAX_LONG),
  integerTunable("latency-monitor-threshold", 0, 0n, MAX_LONG),
  integerTunable("tcp-keepalive", 300, 0n, MAX_INT),
  integerTunable("active-expire-effort", 1, 1n, 10n),
];

const BY_NAME = new Map(CONFIG_PARAMETERS.map((parameter) => [parameter.name, parameter]));

/** The parameter named `name`, in any case. */
export function findParameter(name: string): ConfigParameter | undefined {
  return BY_NAME.get(name.toLowerCase());
}
