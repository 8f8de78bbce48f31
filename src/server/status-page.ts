/**
 * The status page: `GET /` is one self-contained HTML page (no build step, no external
 * assets) that polls `GET /status.json` every second and shows the live state as numbers and
 * small charts. The JSON's figures come from the same sources as /metrics. The HTML holds no
 * figures, so it is served to anyone; /status.json needs a token when observability is
 * protected, and the page then asks for one and sends it as a bearer token.
 */
import { statfs } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { Store } from "../store/index.js";
import { PACKAGE_VERSION } from "../version.js";
import { streamSummary, type Telemetry } from "./telemetry/index.js";

export interface StatusOptions {
  store: Store;
  /** Where the request counts and recent group commits come from. */
  telemetry: Telemetry;
  /** The open change-feed streams. */
  feedConnections: { readonly size: number };
  /** The blocking stream reads waiting over HTTP. */
  blockedReads: { readonly size: number };
  /** Whether /status.json answers without a token. */
  figuresArePublic: boolean;
}

/**
 * Free and total bytes of the file system that holds the data directory, or nulls when it
 * cannot be asked (a simulated disk under the store has no real directory). statfs only
 * reads the file system's counters; the store's own I/O goes through its FileSystem.
 */
async function diskSpaceOf(directory: string): Promise<{ diskFreeBytes: number | null; diskTotalBytes: number | null }> {
  try {
    const space = await statfs(directory);
    return { diskFreeBytes: space.bavail * space.bsize, diskTotalBytes: space.blocks * space.bsize };
  } catch {
    return { diskFreeBytes: null, diskTotalBytes: null };
  }
}

export function registerStatusRoutes(app: FastifyInstance, options: StatusOptions): void {
  const { store, telemetry } = options;
  const startedAtMs = Date.now();

  app.get("/status.json", { config: { public: options.figuresArePublic } }, async (request) => {
    const stats = store.stats();
    const log = store.logStats;
    const last = stats.lastCheckpoint;
    const memory = process.memoryUsage();
    const figures = telemetry.statusFigures();
    const nowMs = Date.now();
    const streams = streamSummary(store);
    return {
      timeMs: nowMs,
      version: PACKAGE_VERSION,
      dataDir: store.directory,
      listening: app.addresses().map((bound) => {
        if (typeof bound === "string") return bound;
        const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
        return `${request.protocol}://${host}:${bound.port}`;
      }),
      sync: log.sync,
      uptimeSeconds: Math.round((nowMs - startedAtMs) / 1000),
      durableLsn: log.durableLsn,
      lastLsn: log.lastLsn,
      appliedLsn: stats.appliedLsn,
      logRecords: log.records,
      commits: log.commits,
      fsyncs: log.fsyncs,
      recentCommits: figures.recentCommits,
      requests: figures.requests,
      clientErrors: figures.clientErrors,
      serverErrors: figures.serverErrors,
      keys: stats.keys,
      memoryBytes: stats.memoryEstimateBytes,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      checkpointLsn: store.checkpointLsn,
      // Null while this process has written no checkpoint: its age is unknown, not the uptime.
      checkpointAgeSeconds: last === undefined ? null : Math.round((nowMs - last.atMs) / 1000),
      checkpointsWritten: stats.checkpointsWritten,
      logBytesSinceCheckpoint: stats.logBytesSinceCheckpoint,
      diskBytes: log.diskBytes,
      ...(await diskSpaceOf(store.directory)),
      segments: log.segments,
      logDamageBelowCheckpoint: stats.recovery.damagedBelowCheckpoint.length,
      feedCursors: store.feedCursors.size,
      feedCursorLagBytesMax: Math.max(0, ...store.feedCursors.list().map((c) => c.lagBytes)),
      feedCursorsDropped: store.feedCursors.droppedTotal,
      feedConnections: options.feedConnections.size,
      streams: streams.streams,
      streamPending: streams.pending,
      streamLagMax: streams.lagMax,
      streamBlockedReaders: streams.blockedReaders,
      streamBlockingRequests: options.blockedReads.size,
      failed: store.failure?.code ?? null,
      metrics: telemetry.metricsEnabled,
    };
  });

  app.get("/", { config: { public: true } }, async (_request, reply) => {
    reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(PAGE);
  });
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logbook</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2733; background: #f6f7f9; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #5b6776; margin-bottom: 16px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
  .card { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 12px; }
  .label { color: #5b6776; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .value { font-size: 22px; font-variant-numeric: tabular-nums; margin-top: 2px; }
  .detail { color: #5b6776; font-size: 12px; margin-top: 2px; overflow-wrap: anywhere; }
  canvas { width: 100%; height: 48px; margin-top: 6px; }
  .bad { color: #b3261e; }
  form { margin-bottom: 16px; }
</style>
</head>
<body>
<h1>Logbook <span id="version" class="detail"></span></h1>
<div class="sub">live state, updated every second · <span id="state">connecting…</span> · <a href="/metrics">/metrics</a></div>
<div class="sub"><span id="data-dir">–</span> · <span id="listening">–</span> · sync <span id="sync-mode">–</span></div>
<form id="token-form" hidden>
  <label>This server asks for a token to show its figures: <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">show</button>
</form>
<div class="grid">
  <div class="card"><div class="label">durable LSN</div><div class="value" id="durable-lsn">–</div></div>
  <div class="card"><div class="label">writes / s</div><div class="value" id="writes-per-second">–</div><canvas id="chart-writes"></canvas></div>
  <div class="card"><div class="label">commit latency p50 / p99 (ms)</div><div class="value" id="commit-latency">–</div><canvas id="chart-latency"></canvas></div>
  <div class="card"><div class="label">group commit size (mean / max)</div><div class="value" id="batch-size">–</div><canvas id="chart-batch"></canvas></div>
  <div class="card"><div class="label">requests / s</div><div class="value" id="requests-per-second">–</div><div class="detail" id="error-rates">–</div></div>
  <div class="card"><div class="label">checkpoint age</div><div class="value" id="checkpoint-age">–</div></div>
  <div class="card"><div class="label">log since checkpoint</div><div class="value" id="log-since-checkpoint">–</div></div>
  <div class="card"><div class="label">disk (log segments)</div><div class="value" id="disk-bytes">–</div></div>
  <div class="card"><div class="label">disk free</div><div class="value" id="disk-free">–</div></div>
  <div class="card"><div class="label">feed cursors</div><div class="value" id="feed-cursors">–</div><div class="detail" id="feed-detail">–</div></div>
  <div class="card"><div class="label">streams</div><div class="value" id="streams">–</div><div class="detail" id="stream-detail">–</div></div>
  <div class="card"><div class="label">keys</div><div class="value" id="keys">–</div></div>
  <div class="card"><div class="label">memory (process RSS)</div><div class="value" id="memory-rss">–</div><div class="detail" id="memory-detail">–</div></div>
</div>
<script>
"use strict";
const history = { writes: [], latency: [], batch: [] };
const TOKEN_KEY = "logbook-status-token";
let previous;
let updates = 0;
const $ = (id) => document.getElementById(id);
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}
function spark(id, values) {
  const canvas = $(id);
  const width = canvas.width = canvas.clientWidth * devicePixelRatio;
  const height = canvas.height = canvas.clientHeight * devicePixelRatio;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  if (values.length < 2) return;
  const max = Math.max(...values, 1e-9);
  g.strokeStyle = "#2f6fd6"; g.lineWidth = 2 * devicePixelRatio; g.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * width, y = height - (v / max) * (height - 4) - 2;
    i === 0 ? g.moveTo(x, y) : g.lineTo(x, y);
  });
  g.stroke();
}
function push(list, value) { list.push(value); if (list.length > 60) list.shift(); }
function rate(s, field, seconds) {
  return seconds > 0 ? Math.max(0, (s[field] - previous[field]) / seconds) : 0;
}
function checkpointAge(s) {
  if (s.checkpointAgeSeconds !== null) return s.checkpointAgeSeconds + " s";
  return s.checkpointLsn > 0 ? "before this start (LSN " + s.checkpointLsn + ")" : "none yet";
}
function show(s) {
  const seconds = previous === undefined ? 0 : (s.timeMs - previous.timeMs) / 1000;
  const writes = rate(s, "logRecords", seconds);
  const requests = rate(s, "requests", seconds);
  const clientErrors = rate(s, "clientErrors", seconds);
  const serverErrors = rate(s, "serverErrors", seconds);
  previous = s;
  $("version").textContent = s.version;
  $("data-dir").textContent = s.dataDir;
  $("listening").textContent = s.listening.join(", ");
  $("sync-mode").textContent = s.sync;
  $("durable-lsn").textContent = String(s.durableLsn);
  $("writes-per-second").textContent = Math.round(writes).toLocaleString("en-US");
  $("commit-latency").textContent = s.recentCommits.p50Ms.toFixed(2) + " / " + s.recentCommits.p99Ms.toFixed(2);
  $("batch-size").textContent = s.recentCommits.batchMean.toFixed(1) + " / " + s.recentCommits.batchMax;
  $("requests-per-second").textContent = Math.round(requests).toLocaleString("en-US");
  $("error-rates").textContent = "4xx " + clientErrors.toFixed(1) + " / s · 5xx " + serverErrors.toFixed(1) + " / s (" +
    s.clientErrors + " and " + s.serverErrors + " since start)";
  $("error-rates").className = serverErrors > 0 ? "detail bad" : "detail";
  $("checkpoint-age").textContent = checkpointAge(s);
  $("log-since-checkpoint").textContent = bytes(s.logBytesSinceCheckpoint);
  $("disk-bytes").textContent = bytes(s.diskBytes) + " · " + s.segments + " segments";
  $("disk-free").textContent = s.diskFreeBytes === null ? "unknown" : bytes(s.diskFreeBytes) + " of " + bytes(s.diskTotalBytes);
  $("keys").textContent = s.keys.toLocaleString("en-US");
  $("feed-cursors").textContent = String(s.feedCursors);
  $("feed-detail").textContent = "most behind " + bytes(s.feedCursorLagBytesMax) + " · " + s.feedConnections +
    " streams open · " + s.feedCursorsDropped + " dropped";
  $("streams").textContent = String(s.streams);
  $("stream-detail").textContent = s.streamPending + " pending · most lag " + s.streamLagMax + " · " +
    s.streamBlockedReaders + " readers blocked (" + s.streamBlockingRequests + " over HTTP)";
  $("memory-rss").textContent = bytes(s.rssBytes);
  $("memory-detail").textContent = "JS heap " + bytes(s.heapUsedBytes) + " · keys and values " + bytes(s.memoryBytes) + " (estimate)";
  push(history.writes, writes); push(history.latency, s.recentCommits.p99Ms); push(history.batch, s.recentCommits.batchMean);
  spark("chart-writes", history.writes); spark("chart-latency", history.latency); spark("chart-batch", history.batch);
  updates++;
  document.body.dataset.updates = String(updates);
  $("state").textContent = s.failed ? "log FAILED: " + s.failed : "up " + s.uptimeSeconds + " s";
  $("state").className = s.failed ? "bad" : "";
}
async function refresh() {
  try {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = token === null ? {} : { authorization: "Bearer " + token };
    const response = await fetch("/status.json", { cache: "no-store", headers });
    if (response.status === 401) {
      $("token-form").hidden = false;
      $("state").textContent = token === null ? "a token is needed" : "the token was refused";
      $("state").className = "bad";
      return;
    }
    $("token-form").hidden = true;
    show(await response.json());
  } catch (error) {
    $("state").textContent = "unreachable";
    $("state").className = "bad";
  }
}
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  refresh();
});
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
