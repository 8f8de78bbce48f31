/**
 * The streams' Prometheus metrics, read when scraped: how many streams there are, the
 * longest ones' length and bytes and their groups' lag and pending entries (a bounded number
 * of labelled series: stream-figures.ts), dead-lettered entries, and the readers blocked in
 * the store and over HTTP.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { Store } from "../../store/index.js";
import { type StreamSnapshot, streamSnapshot, streamSummary } from "./stream-figures.js";

/** The blocking stream reads waiting over HTTP, and how many were refused. */
export interface BlockedReadCounts {
  readonly size: number;
  readonly rejected: number;
}

export function registerStreamMetrics(registry: Registry, store: Store, blockedReads: BlockedReadCounts | undefined): void {
  // The registry collects every metric of a scrape at once (their collect functions are called
  // in one synchronous pass), so the labelled gauges share one snapshot per scrape.
  let current: Promise<StreamSnapshot> | undefined;
  const snapshot = (): Promise<StreamSnapshot> => {
    if (current === undefined) {
      const taken = streamSnapshot(store);
      current = taken;
      taken.then(
        () => {
          current = undefined;
        },
        () => {
          current = undefined;
        },
      );
    }
    return current;
  };
  new Gauge({
    name: "logbook_streams",
    help: "Keys holding a stream",
    registers: [registry],
    collect() {
      this.set(store.streams.keys().length);
    },
  });
  labelledGauge(
    registry,
    "logbook_stream_length",
    "Entries of a stream (the longest ones)",
    ["tenant", "stream"],
    async (set) => {
      for (const s of (await snapshot()).labelled) set({ tenant: s.tenant, stream: s.stream }, s.length);
    },
  );
  labelledGauge(
    registry,
    "logbook_stream_bytes",
    "Bytes of a stream's entries (the longest ones)",
    ["tenant", "stream"],
    async (set) => {
      for (const s of (await snapshot()).labelled) set({ tenant: s.tenant, stream: s.stream }, s.bytes);
    },
  );
  const groupLabels = ["tenant", "stream", "group"];
  labelledGauge(
    registry,
    "logbook_stream_group_lag",
    "Entries not yet delivered to a consumer group",
    groupLabels,
    async (set) => {
      for (const s of (await snapshot()).labelled)
        for (const g of s.groups) if (g.lag !== null) set({ tenant: s.tenant, stream: s.stream, group: g.group }, g.lag);
    },
  );
  labelledGauge(
    registry,
    "logbook_stream_group_pending",
    "Entries delivered to a group, not yet acknowledged",
    groupLabels,
    async (set) => {
      for (const s of (await snapshot()).labelled)
        for (const g of s.groups) set({ tenant: s.tenant, stream: s.stream, group: g.group }, g.pending);
    },
  );
  new Counter({
    name: "logbook_stream_dead_lettered_entries_total",
    help: "Entries added to the streams consumer groups dead-letter into (entries moved after maxDeliveries)",
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await snapshot()).deadLettered);
    },
  });
  new Gauge({
    name: "logbook_stream_blocked_readers",
    help: "Readers blocked on streams in the store (XREAD/XREADGROUP with a wait, from every front end)",
    registers: [registry],
    collect() {
      this.set(streamSummary(store).blockedReaders);
    },
  });
  if (blockedReads === undefined) return;
  new Gauge({
    name: "logbook_stream_blocking_requests",
    help: "Blocking stream reads waiting over HTTP",
    registers: [registry],
    collect() {
      this.set(blockedReads.size);
    },
  });
  new Counter({
    name: "logbook_stream_blocking_requests_rejected_total",
    help: "Blocking stream reads refused because streamBlockedReadsMax were waiting",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(blockedReads.rejected);
    },
  });
}

type SetLabelled = (labels: Record<string, string>, value: number) => void;

function labelledGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  fill: (set: SetLabelled) => Promise<void>,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await fill((labels, value) => this.set(labels, value));
    },
  });
}
