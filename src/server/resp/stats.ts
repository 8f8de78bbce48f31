/**
 * The endpoint's counters, as Redis's INFO reports them (commandstats, errorstats, clients,
 * stats) and /metrics exports them: per command its calls, time, rejected and failed calls;
 * per error prefix its count; and each kind of refusal.
 */

export interface CommandStat {
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

/** Why the endpoint refused a connection or closed one. */
export type Refusal =
  | "clients_max"
  | "protocol_error"
  | "output_buffer"
  | "auth_failed"
  | "overloaded"
  | "idle_timeout"
  | "loopback_only";

export class RespStats {
  readonly commands = new Map<string, CommandStat>();
  readonly errors = new Map<string, number>();
  readonly refusals = new Map<Refusal, number>();
  connectionsReceived = 0;
  commandsProcessed = 0;
  readonly startedAt = Date.now();

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

  /** CONFIG RESETSTAT: command and error counts start again (connections and refusals stay, as in Redis). */
  reset(): void {
    this.commands.clear();
    this.errors.clear();
    this.commandsProcessed = 0;
  }
}
