/**
 * Prometheus metrics (prom-client), one registry per server. Request metrics are counted per
 * request in typed arrays (typed-histograms.ts); log and store figures are read from their
 * stats when scraped (nothing on the hot path), except the per-commit histograms (fsync
 * latency, records per fsync), fed through `commitSeen`: at most one observation per group
 * commit, not per write.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CommitInfo } from "../../log/index.js";
import type { Store } from "../../store/index.js";
import type { Admission } from "../admission.js";
import { type BlockedReadCounts, registerStreamMetrics } from "./stream-metrics.js";
import { PlainHistogram, RequestMetrics } from "./typed-histograms.js";

export interface Metrics {
  registry: Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  requestStarted(): void;
  requestEnded(): void;
  /** A group commit was acknowledged. */
  commitSeen(info: CommitInfo): void;
}

export const LATENCY_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const RECORDS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

/** A counter whose value is a running total kept elsewhere, read at scrape time. */
export function totalCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export interface MetricsOptions {
  processMetrics?: boolean;
  /** The open change-feed streams and how many were refused. */
  feedConnections?: { readonly size: number; readonly rejected: number };
  /** The blocking stream reads waiting over HTTP and how many were refused. */
  blockedReads?: BlockedReadCounts;
}

export function createMetrics(store: Store, admission: Admission, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "logbook_" });
  const http = registerHttpMetrics(registry, admission);
  const commitSeen = registerLogMetrics(registry, store);
  registerStoreMetrics(registry, store);
  registerFeedMetrics(registry, store, options.feedConnections);
  registerStreamMetrics(registry, store, options.blockedReads);
  return { registry, ...http, commitSeen };
}

/** Requests (counted on the hot path in typed arrays and plain numbers), refusals, writes in flight. */
function registerHttpMetrics(
  registry: Registry,
  admission: Admission,
): Pick<Metrics, "observeRequest" | "requestStarted" | "requestEnded"> {
  const requests = new RequestMetrics(
    registry,
    { count: "logbook_http_requests_total", duration: "logbook_http_request_duration_seconds" },
    LATENCY_BUCKETS_SECONDS,
  );
  // Counted in a plain number on the hot path; the gauge reads it when scraped.
  let requestsInFlight = 0;
  gauge(registry, "logbook_http_requests_in_flight", "Requests being handled", () => requestsInFlight);
  const rejections = new Counter({
    name: "logbook_http_rejections_total",
    help: "Writes refused: overloaded (429) or unavailable after a log failure (503)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  rejections.inc({ reason: "overloaded" }, 0);
  rejections.inc({ reason: "unavailable" }, 0);
  gauge(registry, "logbook_http_writes_in_flight", "Writes sequenced and not yet durable", () => admission.inFlight.writes);
  gauge(
    registry,
    "logbook_http_write_bytes_in_flight",
    "Bytes of writes sequenced and not yet durable",
    () => admission.inFlight.bytes,
  );
  return {
    observeRequest(route, method, status, seconds) {
      requests.observe(route, method, status, seconds);
      if (status === 429) rejections.inc({ reason: "overloaded" });
      else if (status === 503) rejections.inc({ reason: "unavailable" });
    },
    requestStarted: () => {
      requestsInFlight++;
    },
    requestEnded: () => {
      requestsInFlight--;
    },
  };
}

/** The log's per-commit histograms (fed by the returned function) and its figures, read when scraped. */
function registerLogMetrics(registry: Registry, store: Store): (info: CommitInfo) => void {
  // Observed once per group commit on the event loop, so kept in typed arrays like the requests'.
  const fsyncSeconds = new PlainHistogram(
    registry,
    "logbook_log_fsync_duration_seconds",
    "fdatasync latency of the log's group commits",
    LATENCY_BUCKETS_SECONDS,
  );
  const commitSeconds = new PlainHistogram(
    registry,
    "logbook_log_commit_duration_seconds",
    "Write plus fdatasync of one group commit",
    LATENCY_BUCKETS_SECONDS,
  );
  const recordsPerCommit = new PlainHistogram(
    registry,
    "logbook_log_records_per_fsync",
    "Records made durable by one group commit (its batch size)",
    RECORDS_BUCKETS,
  );
  const log = () => store.logStats;
  totalCounter(registry, "logbook_log_appends_total", "Records appended to the log", () => log().records);
  totalCounter(registry, "logbook_log_appended_bytes_total", "Record bytes appended to the log", () => log().recordBytes);
  totalCounter(registry, "logbook_log_fsyncs_total", "fdatasyncs of the log", () => log().fsyncs);
  totalCounter(registry, "logbook_log_commits_total", "Group commits of the log", () => log().commits);
  totalCounter(
    registry,
    "logbook_log_commits_on_event_loop_total",
    "Group commits the event loop wrote and fdatasynced itself, blocking for them (low load; --no-commit-on-event-loop)",
    () => log().commitsOnEventLoop,
  );
  gauge(registry, "logbook_log_durable_lsn", "The last LSN made durable", () => log().durableLsn);
  gauge(registry, "logbook_log_last_lsn", "The last LSN handed out", () => log().lastLsn);
  gauge(registry, "logbook_log_segments", "Segment files of the log", () => log().segments);
  gauge(registry, "logbook_log_disk_bytes", "Bytes allocated to the log's segment files (and its spare)", () => log().diskBytes);
  gauge(registry, "logbook_log_failed", "1 once the log has failed (fsync error, disk full): writes are refused", () =>
    store.failure === undefined ? 0 : 1,
  );
  return (info) => {
    commitSeconds.observe(info.durationMs / 1000);
    recordsPerCommit.observe(info.records);
    if (info.durable) fsyncSeconds.observe(info.fsyncMs / 1000);
  };
}

/** The store's figures, read when scraped, and the checkpoint histogram, fed by its checkpoint events. */
function registerStoreMetrics(registry: Registry, store: Store): void {
  const startedAtMs = Date.now();
  const checkpointSeconds = new Histogram({
    name: "logbook_store_checkpoint_duration_seconds",
    help: "Time to write and install a checkpoint",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  store.on("checkpoint", (info) => checkpointSeconds.observe(info.durationMs / 1000));
  const stats = () => store.stats();
  gauge(registry, "logbook_store_keys", "Keys in the store (idempotency records included)", () => stats().keys);
  gauge(
    registry,
    "logbook_store_memory_bytes",
    "Estimated memory of the keys and values held",
    () => stats().memoryEstimateBytes,
  );
  gauge(registry, "logbook_store_applied_lsn", "The last LSN applied to the visible state", () => stats().appliedLsn);
  totalCounter(registry, "logbook_store_checkpoints_total", "Checkpoints written since start", () => stats().checkpointsWritten);
  gauge(registry, "logbook_store_checkpoint_age_seconds", "Seconds since the last checkpoint (since start when none yet)", () => {
    const last = stats().lastCheckpoint;
    return ((last === undefined ? Date.now() - startedAtMs : Date.now() - last.atMs) / 1000) | 0;
  });
  gauge(registry, "logbook_store_checkpoint_lsn", "LSN of the newest checkpoint", () => store.checkpointLsn);
  gauge(
    registry,
    "logbook_store_log_bytes_since_checkpoint",
    "Log bytes written since the last checkpoint",
    () => stats().logBytesSinceCheckpoint,
  );
  const recovery = store.recovery;
  const logRecovery = store.logStats.recovery;
  gauge(
    registry,
    "logbook_store_recovery_duration_seconds",
    "Time the last start took to recover (log and store)",
    () => (recovery.durationMs + logRecovery.durationMs) / 1000,
  );
  gauge(
    registry,
    "logbook_store_recovery_records_replayed",
    "Records replayed from the log at the last start",
    () => recovery.recordsReplayed,
  );
  totalCounter(
    registry,
    "logbook_log_damage_below_checkpoint_total",
    "Damaged log regions the last start passed over because the newest checkpoint holds their records (later checkpoints free their segments)",
    () => recovery.damagedBelowCheckpoint.length,
  );
}

/** The change feed: its cursors and how far behind each is, the ones dropped, and the open streams. */
function registerFeedMetrics(
  registry: Registry,
  store: Store,
  connections: { readonly size: number; readonly rejected: number } | undefined,
): void {
  gauge(registry, "logbook_feed_cursors", "Named feed cursors", () => store.feedCursors.size);
  // One series per cursor: their number has a ceiling (FEED_CURSORS_MAX).
  new Gauge({
    name: "logbook_feed_cursor_lag_bytes",
    help: "Bytes of log a feed cursor is behind the durable end (an estimate); past feedCursorLagBytesMax it is dropped",
    labelNames: ["cursor"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const cursor of store.feedCursors.list()) this.set({ cursor: cursor.name }, cursor.lagBytes);
    },
  });
  totalCounter(
    registry,
    "logbook_feed_cursors_dropped_total",
    "Feed cursors dropped for falling more than feedCursorLagBytesMax behind, since start",
    () => store.feedCursors.droppedTotal,
  );
  if (connections === undefined) return;
  gauge(registry, "logbook_feed_connections", "Change-feed streams (GET /v1/changes) open", () => connections.size);
  totalCounter(
    registry,
    "logbook_feed_connections_rejected_total",
    "Change-feed streams refused because feedConnectionsMax were open",
    () => connections.rejected,
  );
}
