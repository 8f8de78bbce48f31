/**
 * The Redis endpoint's metrics: per command its calls and latency (typed arrays, on the hot
 * path), its failed and rejected calls (counted only when a command errs), and the endpoint's
 * figures read when scraped: clients connected and blocked, connections received, bytes held
 * for clients, and refusals by reason. Registered once the endpoint opens, so a server without
 * one exports none of them.
 */
import { Counter, type Registry } from "prom-client";
import { gauge, LATENCY_BUCKETS_SECONDS, totalCounter } from "./metrics.js";
import { CommandMetrics } from "./typed-histograms.js";

/** What the endpoint shows of itself, read when metrics are scraped. */
export interface RespFigures {
  readonly clientCount: number;
  blockedClients(): number;
  /** Bytes held for clients: unparsed input, and replies not yet written. */
  bufferedBytes(): number;
  readonly stats: { readonly connectionsReceived: number; readonly refusals: ReadonlyMap<string, number> };
}

export class RespMetrics {
  private readonly commands: CommandMetrics;
  private readonly failed: Counter<"command">;
  private readonly rejected: Counter<"command">;

  constructor(registry: Registry, figures: RespFigures) {
    this.commands = new CommandMetrics(
      registry,
      { count: "logbook_resp_commands_total", duration: "logbook_resp_command_duration_seconds" },
      LATENCY_BUCKETS_SECONDS,
    );
    this.failed = new Counter({
      name: "logbook_resp_commands_failed_total",
      help: "Redis commands that ran and answered an error, by command",
      labelNames: ["command"] as const,
      registers: [registry],
    });
    this.rejected = new Counter({
      name: "logbook_resp_commands_rejected_total",
      help: "Redis commands refused before they ran (unknown, wrong arity, no AUTH, no permission), by command",
      labelNames: ["command"] as const,
      registers: [registry],
    });
    gauge(registry, "logbook_resp_clients", "Redis clients connected", () => figures.clientCount);
    gauge(registry, "logbook_resp_blocked_clients", "Redis clients waiting in a blocking command", () =>
      figures.blockedClients(),
    );
    gauge(
      registry,
      "logbook_resp_buffered_bytes",
      "Bytes held for Redis clients: input not yet parsed and replies not yet written",
      () => figures.bufferedBytes(),
    );
    totalCounter(
      registry,
      "logbook_resp_connections_total",
      "Redis connections accepted (refused ones included)",
      () => figures.stats.connectionsReceived,
    );
    new Counter({
      name: "logbook_resp_refusals_total",
      help: "Redis connections refused or closed, and commands refused, by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of figures.stats.refusals) this.inc({ reason }, count);
      },
    });
  }

  /** A command ran for `seconds`; `failed`: it answered an error. */
  observe(command: string, seconds: number, failed: boolean): void {
    this.commands.observe(command, seconds);
    if (failed) this.failed.inc({ command });
  }

  /** A command refused before it ran. */
  reject(command: string): void {
    this.rejected.inc({ command });
  }
}
