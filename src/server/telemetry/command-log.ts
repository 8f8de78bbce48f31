/**
 * The access log's line per Redis command. A command costs the endpoint a few microseconds, so
 * its line is built here as one string in pino's own line format (the level, time and bindings
 * pino would print, taken from the logger: the same line `logger.info(fields, "command")` writes)
 * and handed to the logger's destination, the buffered one every line goes through. Building
 * it from known fields skips pino's generic walk of an object per line, which costs about as
 * much again as the rest of a command's observation (the commit adding this gives figures).
 *
 * Fields: the command's name from the table, the client's id and address, its tenant, the
 * latency, the error prefix when it answered one, and the trace id when it was traced; never a
 * key or a value. A logger whose destination needs pino's per-line metadata (a multistream)
 * gets its lines through pino itself.
 */
import { type Logger, pino } from "pino";

interface Destination {
  write(line: string): unknown;
}

const { chindingsSym, lsCacheSym, messageKeySym, needsMetadataGsym, streamSym, timeSym } = pino.symbols;
const INFO = 30;
/** What would need escaping in a JSON string. */
const NEEDS_ESCAPE = /[^ -~]|["\\]/;

function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

export class CommandLog {
  private readonly destination: Destination | undefined;

  constructor(private readonly logger: Logger) {
    const internals = logger as unknown as Record<symbol, unknown>;
    const destination = internals[streamSym] as (Destination & Record<symbol, unknown>) | undefined;
    const direct = destination !== undefined && destination[needsMetadataGsym] !== true && internals[messageKeySym] === "msg";
    this.destination = direct ? destination : undefined;
  }

  write(
    command: string,
    clientId: number,
    address: string,
    tenantId: string | undefined,
    seconds: number,
    error: string | undefined,
    traceId: string | undefined,
  ): void {
    const logger = this.logger;
    if (logger.levelVal > INFO) return;
    const latencyMs = Math.round(seconds * 1_000_000) / 1000;
    const destination = this.destination;
    if (destination === undefined) {
      const fields = { command, clientId, client: address, tenantId, latencyMs, error, traceId };
      logger.info(fields, "command");
      return;
    }
    const internals = logger as unknown as Record<symbol, unknown>;
    const level = (internals[lsCacheSym] as Record<number, string>)[INFO];
    const time = (internals[timeSym] as () => string)();
    let line = `${level}${time}${internals[chindingsSym] as string},"command":"${command}","clientId":${clientId},"client":${jsonString(address)}`;
    if (tenantId !== undefined) line += `,"tenantId":${jsonString(tenantId)}`;
    line += `,"latencyMs":${latencyMs}`;
    if (error !== undefined) line += `,"error":${jsonString(error)}`;
    if (traceId !== undefined) line += `,"traceId":"${traceId}"`;
    destination.write(`${line},"msg":"command"}\n`);
  }
}
