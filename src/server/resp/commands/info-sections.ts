/**
 * The sections of INFO (server.c, genRedisInfoString), each a list of `field:value` lines in
 * Redis's field order. Fields Logbook has no counterpart for keep Redis's idle value (0, -1,
 * `ok`), so clients and tools that read them find them; Logbook's own facts follow as extra
 * lines (`logbook_version`, `appendfsync`).
 */
import { machine, release, totalmem, type } from "node:os";
import { performance } from "node:perf_hooks";
import { PACKAGE_VERSION } from "../../../version.js";
import type { CommandContext } from "../context.js";
import type { RespHost } from "../host.js";
import { REDIS_VERSION } from "./connection.js";

export type InfoLines = string[];

/** Redis's appendfsync for each of Logbook's sync modes. */
export const APPENDFSYNC_OF_SYNC = { always: "always", interval: "everysec", none: "no" } as const;

/** When the last checkpoint was installed (LASTSAVE, rdb_last_save_time), in ms since the epoch; the start when none was. */
export function lastSaveMs(host: RespHost): number {
  return host.store.stats().lastCheckpoint?.atMs ?? host.stats.startedAt;
}

/** Redis's bytesToHuman: 100B, 1.50K, 2.00M, … */
export function bytesToHuman(bytes: number): string {
  const units = ["K", "M", "G", "T", "P"];
  if (bytes < 1024) return `${bytes}B`;
  let scaled = bytes / 1024;
  for (const unit of units) {
    if (scaled < 1024 || unit === "P") return `${scaled.toFixed(2)}${unit}`;
    scaled /= 1024;
  }
  return `${bytes}B`;
}

/** Microseconds since the epoch (TIME, INFO's server_time_usec). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export function serverSection(host: RespHost): InfoLines {
  const micros = nowMicros();
  const uptimeSeconds = Math.floor((micros / 1000 - host.stats.startedAt) / 1000);
  return [
    `redis_version:${REDIS_VERSION}`,
    "redis_git_sha1:00000000",
    "redis_git_dirty:0",
    "redis_build_id:0",
    "redis_mode:standalone",
    `os:${type()} ${release()} ${machine()}`,
    `arch_bits:${process.arch.endsWith("64") ? 64 : 32}`,
    `process_id:${process.pid}`,
    "process_supervised:no",
    `run_id:${host.state.runId}`,
    `tcp_port:${host.port}`,
    `server_time_usec:${micros}`,
    `uptime_in_seconds:${uptimeSeconds}`,
    `uptime_in_days:${Math.floor(uptimeSeconds / 86_400)}`,
    "hz:10",
    "configured_hz:10",
    `executable:${process.argv[1] ?? process.execPath}`,
    "config_file:",
    "io_threads_active:0",
    `logbook_version:${PACKAGE_VERSION}`,
    `node_version:${process.version}`,
  ];
}

export function clientsSection(host: RespHost): InfoLines {
  let connected = 0;
  for (const _ of host.sessions()) connected++;
  return [
    `connected_clients:${connected}`,
    "cluster_connections:0",
    `maxclients:${host.settings.clientsMax}`,
    "client_recent_max_input_buffer:0",
    "client_recent_max_output_buffer:0",
    `blocked_clients:${host.blockedClients()}`,
    "tracking_clients:0",
    "clients_in_timeout_table:0",
  ];
}

export function memorySection(host: RespHost): InfoLines {
  const { usedBytes, peakBytes, rssBytes } = host.state.memory();
  const dataset = host.store.stats().memoryEstimateBytes;
  const system = totalmem();
  return [
    `used_memory:${usedBytes}`,
    `used_memory_human:${bytesToHuman(usedBytes)}`,
    `used_memory_rss:${rssBytes}`,
    `used_memory_rss_human:${bytesToHuman(rssBytes)}`,
    `used_memory_peak:${peakBytes}`,
    `used_memory_peak_human:${bytesToHuman(peakBytes)}`,
    `used_memory_peak_perc:${((usedBytes / peakBytes) * 100).toFixed(2)}%`,
    `used_memory_dataset:${dataset}`,
    `total_system_memory:${system}`,
    `total_system_memory_human:${bytesToHuman(system)}`,
    "maxmemory:0",
    "maxmemory_human:0B",
    "maxmemory_policy:noeviction",
    `mem_fragmentation_ratio:${(rssBytes / usedBytes).toFixed(2)}`,
    "mem_allocator:v8",
    "lazyfree_pending_objects:0",
    "lazyfreed_objects:0",
  ];
}

/** Checkpoints stand for RDB saves and AOF rewrites alike; the log is the always-on AOF. */
export function persistenceSection(host: RespHost): InfoLines {
  const store = host.store;
  const stats = store.stats();
  const log = store.logStats;
  const running = stats.checkpointRunning ? 1 : 0;
  const lastSeconds = stats.lastCheckpoint === undefined ? -1 : Math.round(stats.lastCheckpoint.durationMs / 1000);
  const status = host.state.lastSaveOk ? "ok" : "err";
  return [
    "loading:0",
    "async_loading:0",
    `rdb_changes_since_last_save:${Math.max(0, stats.appliedLsn - store.checkpointLsn)}`,
    `rdb_bgsave_in_progress:${running}`,
    `rdb_last_save_time:${Math.floor(lastSaveMs(host) / 1000)}`,
    `rdb_last_bgsave_status:${status}`,
    `rdb_last_bgsave_time_sec:${lastSeconds}`,
    "rdb_current_bgsave_time_sec:-1",
    `rdb_saves:${stats.checkpointsWritten}`,
    "aof_enabled:1",
    `aof_rewrite_in_progress:${running}`,
    "aof_rewrite_scheduled:0",
    `aof_last_rewrite_time_sec:${lastSeconds}`,
    "aof_current_rewrite_time_sec:-1",
    `aof_last_bgrewrite_status:${status}`,
    `aof_rewrites:${host.state.aofRewrites}`,
    "aof_rewrites_consecutive_failures:0",
    `aof_last_write_status:${store.failure === undefined ? "ok" : "err"}`,
    `aof_current_size:${log.diskBytes}`,
    "aof_base_size:0",
    "aof_pending_rewrite:0",
    `aof_buffer_length:${log.pendingBytes}`,
    "aof_pending_bio_fsync:0",
    "aof_delayed_fsync:0",
    `appendfsync:${APPENDFSYNC_OF_SYNC[log.sync]}`,
  ];
}

export function statsSection(host: RespHost): InfoLines {
  const stats = host.stats;
  let errorReplies = 0;
  for (const count of stats.errors.values()) errorReplies += count;
  return [
    `total_connections_received:${stats.connectionsReceived}`,
    `total_commands_processed:${stats.commandsProcessed}`,
    "instantaneous_ops_per_sec:0",
    "total_net_input_bytes:0",
    "total_net_output_bytes:0",
    "rejected_connections:" + (stats.refusals.get("clients_max") ?? 0),
    "expired_keys:0",
    "evicted_keys:0",
    "evicted_clients:0",
    "keyspace_hits:0",
    "keyspace_misses:0",
    "pubsub_channels:0",
    "pubsub_patterns:0",
    "latest_fork_usec:0",
    "total_forks:0",
    "unexpected_error_replies:0",
    `total_error_replies:${errorReplies}`,
  ];
}

export function replicationSection(host: RespHost): InfoLines {
  return [
    "role:master",
    "connected_slaves:0",
    "master_failover_state:no-failover",
    `master_replid:${host.state.replicationId}`,
    "master_replid2:0000000000000000000000000000000000000000",
    "master_repl_offset:0",
    "second_repl_offset:-1",
    "repl_backlog_active:0",
    "repl_backlog_size:1048576",
    "repl_backlog_first_byte_offset:0",
    "repl_backlog_histlen:0",
  ];
}

/** Seconds as Redis prints rusage times: `%ld.%06ld`. */
function seconds(micros: number): string {
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
}

export function cpuSection(): InfoLines {
  const { user, system } = process.cpuUsage();
  return [
    `used_cpu_sys:${seconds(system)}`,
    `used_cpu_user:${seconds(user)}`,
    "used_cpu_sys_children:0.000000",
    "used_cpu_user_children:0.000000",
  ];
}

/** `cmdstat_get:calls=…,usec=…,usec_per_call=…,rejected_calls=…,failed_calls=…` for each command run or refused. */
export function commandStatsSection(host: RespHost): InfoLines {
  const lines: InfoLines = [];
  for (const [name, stat] of host.stats.commands) {
    if (stat.calls === 0 && stat.failedCalls === 0 && stat.rejectedCalls === 0) continue;
    const perCall = stat.calls === 0 ? 0 : stat.usec / stat.calls;
    lines.push(
      `cmdstat_${safeInfoName(name)}:calls=${stat.calls},usec=${stat.usec},usec_per_call=${perCall.toFixed(2)},` +
        `rejected_calls=${stat.rejectedCalls},failed_calls=${stat.failedCalls}`,
    );
  }
  return lines;
}

/** `errorstat_ERR:count=…` per error prefix, in byte order as Redis's radix tree keeps them. */
export function errorStatsSection(host: RespHost): InfoLines {
  const prefixes = [...host.stats.errors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return prefixes.map((prefix) => `errorstat_${safeInfoName(prefix)}:count=${host.stats.errors.get(prefix)}`);
}

/** The caller's tenant is the one database, db0 (shown only when it holds keys, as Redis does). */
export function keyspaceSection(context: CommandContext): InfoLines {
  const { gte, lt } = context.range;
  const keys = context.store.keyspace.count(gte, lt);
  return keys === 0 ? [] : [`db0:keys=${keys},expires=0,avg_ttl=0`];
}

/** Redis's getSafeInfoString: `#`, `:` and line ends would break the `field:value` lines. */
function safeInfoName(name: string): string {
  return name.replace(/[#:\r\n]/g, "_");
}
