/**
 * The endpoint's counters, as Redis's INFO reports them (commandstats, errorstats, clients,
 * stats) and /metrics exports them: per command its calls, time, rejected and failed calls;
 * per error prefix its count; and each kind of refusal. Each command's outcome also goes to
 * the observer (metrics, log lines, traces), which keeps its own totals: CONFIG RESETSTAT
 * resets these, never those.
 */
import type { CommandObserver } from "../telemetry/index.js";

export interface CommandStat {
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

/** Why the endpoint refused a connection or a command, or closed a connection. */
export type Refusal =
  | "clients_max"
  | "protocol_error"
  | "output_buffer"
  | "auth_failed"
  | "no_permission"
  | "overloaded"
  | "idle_timeout"
  | "internal_error";

const REFUSALS: readonly Refusal[] = [
  "clients_max",
  "protocol_error",
  "output_buffer",
  "auth_failed",
  "no_permission",
  "overloaded",
  "idle_timeout",
  "internal_error",
];

/** The client a command came from, as the observer reports it. */
export interface CommandClient {
  readonly id: number;
  readonly address: string;
  readonly principal: { readonly tenant: string } | undefined;
}

/** Commands refused before they ran are reported under this name when the table lacks theirs. */
const UNKNOWN_COMMAND = "unknown";

export class RespStats {
  readonly commands = new Map<string, CommandStat>();
  readonly errors = new Map<string, number>();
  /** Every reason from the start (at zero), so that each is exported before it first happens. */
  readonly refusals = new Map<Refusal, number>(REFUSALS.map((reason) => [reason, 0]));
  connectionsReceived = 0;
  commandsProcessed = 0;
  readonly startedAt = Date.now();

  constructor(private readonly observer: CommandObserver | undefined = undefined) {}

  command(name: string): CommandStat {
    let stat = this.commands.get(name);
    if (stat === undefined) {
      stat = { calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0 };
      this.commands.set(name, stat);
    }
    return stat;
  }

  error(prefix: string): void {
    this.errors.set(prefix, (this.errors.get(prefix) ?? 0) + 1);
  }

  refused(reason: Refusal): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  /** A command starts: its trace, when tracing is on and it is sampled. */
  started(name: string): TraceOfCommand {
    return this.observer?.commandStarted(name);
  }

  /** A command ran for `ms`; `error`: its error reply's prefix, if it answered one. */
  finished(
    stat: CommandStat,
    name: string,
    client: CommandClient,
    ms: number,
    error: string | undefined,
    trace: TraceOfCommand,
  ): void {
    stat.calls++;
    stat.usec += Math.round(ms * 1000);
    if (error !== undefined) stat.failedCalls++;
    this.observer?.commandFinished(name, client.id, client.address, client.principal?.tenant, ms / 1000, error, trace);
  }

  /** A command refused before it ran (`name` undefined: not in the table). */
  rejected(name: string | undefined, client: CommandClient, error: string): void {
    if (name !== undefined) this.command(name).rejectedCalls++;
    this.observer?.commandRejected(name ?? UNKNOWN_COMMAND, client.id, client.address, client.principal?.tenant, error);
  }

  /** CONFIG RESETSTAT: command and error counts start again (connections and refusals stay, as in Redis). */
  reset(): void {
    this.commands.clear();
    this.errors.clear();
    this.commandsProcessed = 0;
  }
}

/** A command's trace as the observer hands it out (opaque here). */
export type TraceOfCommand = ReturnType<CommandObserver["commandStarted"]>;
