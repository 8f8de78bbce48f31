/**
 * The event loop's end of the span export thread (span-export-thread.ts): recorded requests'
 * notes go to the thread as plain data (structured clone), where the SDK's spans are made and
 * exported. Loaded with the SDK only (tracing-sdk.ts).
 */
import { startWorker } from "../../start-worker.js";
import type { RequestNote } from "./span-notes.js";

/** Event loop → export thread. */
export type SpanExportRequest =
  | { type: "notes"; notes: RequestNote[] }
  | { type: "flush"; id: number }
  | { type: "shutdown"; id: number };

/** Export thread → event loop: how request `id` went. */
export interface SpanExportReply {
  id: number;
  error: string | undefined;
}

export class SpanExport {
  private readonly thread = startWorker(import.meta.url, "span-export-thread", undefined);
  /** Flushes and the shutdown sent and not yet answered. */
  private readonly waiting = new Map<number, (reply: SpanExportReply) => void>();
  private nextId = 0;
  /** Set once the thread has stopped (shutdown, or a crash): notes are dropped, requests fail at once. */
  private exited = false;

  constructor() {
    // As with the SDK's own exporter, only a flush or shutdown in flight holds the process up.
    this.thread.unref();
    this.thread.on("message", (reply: SpanExportReply) => this.waiting.get(reply.id)?.(reply));
    this.thread.on("error", (error) => this.failAll(error.message));
    this.thread.on("exit", () => {
      this.exited = true;
      this.failAll("the span export thread exited");
    });
  }

  /** Posts recorded requests' notes; the thread's processors batch and export their spans. */
  send(notes: RequestNote[]): void {
    if (this.exited || notes.length === 0) return;
    this.thread.postMessage({ type: "notes", notes } satisfies SpanExportRequest);
  }

  /** Resolves once every span of the notes sent so far has been exported (or failed to be). */
  async forceFlush(): Promise<void> {
    await this.request("flush");
  }

  /** Exports what is queued, stops the processors in the thread, then the thread. */
  async shutdown(): Promise<void> {
    try {
      await this.request("shutdown");
    } finally {
      await this.thread.terminate();
      this.exited = true;
    }
  }

  private request(type: "flush" | "shutdown"): Promise<void> {
    if (this.exited) return Promise.reject(new Error("the span export thread has stopped"));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, (reply) => {
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.thread.unref();
        if (reply.error === undefined) resolve();
        else reject(new Error(reply.error));
      });
      this.thread.ref();
      this.thread.postMessage({ type, id } satisfies SpanExportRequest);
    });
  }

  private failAll(reason: string): void {
    for (const [id, settle] of [...this.waiting]) settle({ id, error: reason });
  }
}
