/**
 * Where the server's JSON log lines go. pino formats each line and writes it here; lines are
 * gathered in memory and handed in blocks to sonic-boom (pino's asynchronous file writer),
 * at least every `flushIntervalMs`, and synchronously when the process exits.
 *
 * Why not sonic-boom alone: on every write it measures its whole pending buffer with
 * Buffer.byteLength, which flattens a string of up to `maxWrite` bytes, so each line costs
 * time in proportion to what is already waiting. Handing it one block per BLOCK_CHARS of
 * lines makes that measurement once per block (bench/observability.ts prices the access log).
 */
import { openSync } from "node:fs";
import { pino } from "pino";

type SonicBoom = ReturnType<typeof pino.destination>;

const BLOCK_CHARS = 16 * 1024;

export class LogDestination {
  private readonly sonic: SonicBoom;
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly timer: NodeJS.Timeout;
  // Ahead of pino's own exit hooks (which flush sonic-boom), so what is pending here is in it.
  private readonly onBeforeExit = () => this.flush();
  private readonly onExit = () => {
    try {
      this.flushSync();
    } catch {
      // Exiting, with nowhere left to say so.
    }
  };
  private closed = false;

  /** `target`: a file descriptor (1 for stdout) or a path to append to. */
  constructor(target: number | string, flushIntervalMs: number) {
    // Opened here rather than by sonic-boom, which opens a path asynchronously and cannot
    // flush synchronously (at exit) until that is done.
    const fd = typeof target === "number" ? target : openSync(target, "a");
    this.sonic = pino.destination({ dest: fd, sync: false, minLength: 0 });
    this.timer = setInterval(() => this.flush(), flushIntervalMs);
    this.timer.unref();
    process.prependListener("beforeExit", this.onBeforeExit);
    process.prependListener("exit", this.onExit);
  }

  /** pino's stream interface: one formatted line, newline included. */
  write(line: string): boolean {
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= BLOCK_CHARS || this.closed) this.drain();
    return true;
  }

  /**
   * Starts writing everything pending (asynchronously): sonic-boom, with no minimum length,
   * writes what it is handed at once, or right after the write it is doing.
   */
  flush(): void {
    this.drain();
  }

  /** Writes everything pending before returning. */
  flushSync(): void {
    this.drain();
    this.sonic.flushSync();
  }

  /**
   * Writes what is pending and stops the timer; later lines (a last error) go straight to
   * sonic-boom, whose descriptor stays open and which pino flushes at exit.
   */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    process.removeListener("beforeExit", this.onBeforeExit);
    process.removeListener("exit", this.onExit);
    this.flushSync();
  }

  private drain(): void {
    if (this.pending.length === 0) return;
    const block = this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    this.sonic.write(block);
  }
}
