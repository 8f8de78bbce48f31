/**
 * Log lines for refused writes, at most one per class of refusal per interval. Once the log
 * has failed, every write is refused the same way until a restart; a line with a stack trace
 * for each of them would bury the one line that says why (the store's `failure` event). Each
 * line carries the count of refusals of its class since the class's previous line.
 */
import type { Logger } from "pino";
import { isLogbookError } from "../../errors.js";
import type { HttpError } from "../http-error.js";

/** At most one line per class of refusal this often. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Classes tracked at once: the codes of refusals are few and fixed; this bounds the map anyway. */
const REFUSAL_CLASSES_MAX = 64;

interface ClassState {
  lastLineMs: number;
  refusedSinceLine: number;
}

export class RefusalLog {
  private readonly classes = new Map<string, ClassState>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = REFUSAL_LOG_INTERVAL_MS,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Notes one refused request of a class (`code`): logs it unless its class was logged within the interval. */
  refused(code: string, route: string, message: string): void {
    const now = this.nowMs();
    let state = this.classes.get(code);
    if (state === undefined) {
      if (this.classes.size >= REFUSAL_CLASSES_MAX) this.classes.clear();
      state = { lastLineMs: Number.NEGATIVE_INFINITY, refusedSinceLine: 0 };
      this.classes.set(code, state);
    }
    state.refusedSinceLine++;
    if (now - state.lastLineMs < this.intervalMs) return;
    this.logger.warn({ code, route, refused: state.refusedSinceLine, intervalMs: this.intervalMs }, `write refused: ${message}`);
    state.lastLineMs = now;
    state.refusedSinceLine = 0;
  }
}

/** The class of a refusal: the store's own code when the refusal carries it, else the HTTP code. */
export function refusalClass(error: HttpError): string {
  return isLogbookError(error.cause) ? error.cause.code : error.code;
}
