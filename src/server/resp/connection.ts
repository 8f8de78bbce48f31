/**
 * One client connection: bytes in, commands parsed and run, replies out in the order the
 * commands came, whatever order they finish in.
 *
 * Ordering. Writes run as they arrive: each is sequenced at once (so a pipeline of writes joins
 * the same group commit as every other connection's) and its reply waits for its record to be
 * durable. A command that is not a write, arriving while a write of this connection is still
 * unacknowledged, waits for it before it runs, so a read after a write on one connection sees it.
 * A command that waits (a blocking read) holds back the commands behind it, as in Redis.
 *
 * Bounds. Replies that cannot be written (a client that sends but does not read) close the
 * connection past `outputBytesMax`; a pipeline with more than `pipelineBytesMax` bytes received
 * and not yet answered stops being read until it drains (TCP pushes back on the client).
 */
import type { Socket } from "node:net";
import type { CommandContext } from "./context.js";
import { dispatch, isBlocking, isWrite } from "./dispatch.js";
import { ProtocolError, RequestParser } from "./parser.js";
import { errorReply, type Reply } from "./reply.js";
import type { RespSettings } from "./settings.js";
import type { RespStats } from "./stats.js";

type Command = { args: string[]; bytes: number };

export class RespConnection {
  private readonly parser: RequestParser;
  /**
   * Replies in command order, from `head`; undefined: not ready yet. A reply's slot is an absolute
   * number: index `slot - base` here (the array's front is cut off now and then, and `base` moves).
   */
  private replies: (Reply | undefined)[] = [];
  private head = 0;
  private base = 0;
  /** Commands received but not yet run (behind a waiting command). */
  private backlog: Command[] = [];
  private backlogHead = 0;
  /** Set while a command this connection must not overtake is unsettled. */
  private gate: Promise<unknown> | undefined;
  /** The newest of this connection's writes, while unsettled. */
  private lastWrite: Promise<unknown> | undefined;
  /** Bytes of commands received and not yet answered. */
  private pendingBytes = 0;
  private pendingBytesByReply: number[] = [];
  private flushQueued = false;
  private paused = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly context: CommandContext,
    private readonly settings: RespSettings,
    private readonly stats: RespStats,
    private readonly onClose: () => void,
  ) {
    this.parser = new RequestParser(settings);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("drain", () => this.resumeIfDrained());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
      this.context.session.disconnect();
      this.onClose();
    });
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.context.session.lastInteraction = Date.now();
    try {
      this.parser.feed(chunk, this.take);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.stats.refused("protocol_error");
      this.stats.error("ERR");
      this.failProtocol(error.message);
      return;
    }
    this.flush();
    if (this.pendingBytes > this.settings.pipelineBytesMax && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private readonly take = (args: string[], bytes: number): void => {
    if (this.context.session.closing) return;
    this.pendingBytes += bytes;
    if (this.gate !== undefined || this.backlogHead < this.backlog.length || !this.execute(args, bytes)) {
      this.backlog.push({ args, bytes });
    }
  };

  /**
   * Runs a command, or answers false (and holds the connection) when it must wait for this
   * connection's writes. A blocking write (XREADGROUP) is ordered as a read: it waits for the
   * writes before it, and holds the commands behind it until it has its reply.
   */
  private execute(args: string[], bytes: number): boolean {
    const spec = this.context.host.commands.find(args[0] as string);
    const write = isWrite(spec) && !isBlocking(spec) && !this.context.session.inMulti;
    if (!write && this.lastWrite !== undefined) {
      // A read waits for this connection's writes: they apply in LSN order, so the newest settling means all have.
      this.hold(this.lastWrite);
      return false;
    }
    const slot = this.base + this.replies.length;
    this.pendingBytesByReply.push(bytes);
    const result = dispatch(this.context, args);
    if (typeof result === "string") {
      this.replies.push(result);
      return true;
    }
    this.replies.push(undefined);
    const settled = result.then((reply) => this.settle(slot, reply));
    if (write) {
      this.lastWrite = settled;
      settled.then(() => {
        if (this.lastWrite === settled) this.lastWrite = undefined;
      });
    } else {
      this.hold(settled);
    }
    return true;
  }

  /** Runs nothing more of this connection until `waited` settles, then what queued behind it. */
  private hold(waited: Promise<unknown>): void {
    const gate = waited.then(() => {
      if (this.gate !== gate) return;
      this.gate = undefined;
      this.runBacklog();
      this.flush();
    });
    this.gate = gate;
  }

  private runBacklog(): void {
    while (this.gate === undefined && this.backlogHead < this.backlog.length && !this.closed) {
      const { args, bytes } = this.backlog[this.backlogHead] as Command;
      if (!this.execute(args, bytes)) break;
      this.backlog[this.backlogHead++] = undefined as unknown as Command;
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    }
  }

  private settle(slot: number, reply: Reply): void {
    this.replies[slot - this.base] = reply;
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Replies settled by the same commit are written together, after all of them settle.
    queueMicrotask(this.flushQueuedReplies);
  }

  private readonly flushQueuedReplies = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /** Writes the replies ready at the front, in one socket write. */
  private flush(): void {
    let out = "";
    let i = this.head;
    let answeredBytes = 0;
    while (i < this.replies.length && this.replies[i] !== undefined) {
      out += this.replies[i] as string;
      answeredBytes += this.pendingBytesByReply[i] as number;
      i++;
    }
    if (i === this.head) return;
    if (i === this.replies.length) {
      this.base += i;
      this.replies = [];
      this.pendingBytesByReply = [];
      this.head = 0;
    } else if (i > 1024 && i > this.replies.length / 2) {
      // Always something pending (a steady pipeline): cut the answered front off now and then.
      this.base += i;
      this.replies = this.replies.slice(i);
      this.pendingBytesByReply = this.pendingBytesByReply.slice(i);
      this.head = 0;
    } else {
      this.head = i;
    }
    this.pendingBytes -= answeredBytes;
    if (this.closed) return;
    this.socket.write(out, "latin1");
    if (this.socket.writableLength > this.settings.outputBytesMax) {
      this.stats.refused("output_buffer");
      this.socket.destroy();
      return;
    }
    if (this.context.session.closing && this.replies.length === 0 && this.gate === undefined) this.socket.end();
    this.resumeIfDrained();
  }

  private resumeIfDrained(): void {
    if (this.paused && this.pendingBytes <= this.settings.pipelineBytesMax / 2 && this.socket.writableLength === 0) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** A protocol error: Redis answers it and closes the connection (its framing is lost). */
  private failProtocol(message: string): void {
    this.closed = true;
    this.flushReadyOnly();
    this.socket.end(errorReply(`ERR ${message}`), "latin1");
  }

  private flushReadyOnly(): void {
    let out = "";
    for (let i = this.head; i < this.replies.length && this.replies[i] !== undefined; i++) out += this.replies[i] as string;
    if (out.length > 0) this.socket.write(out, "latin1");
  }

  /** Stops reading; resolves once the replies of the commands already taken are written and the socket ends. */
  finish(): Promise<void> {
    this.context.session.closing = true;
    this.socket.pause();
    const ended = new Promise<void>((resolve) => {
      if (this.closed) resolve();
      else this.socket.once("close", () => resolve());
    });
    if (this.replies.length === this.head && this.gate === undefined) this.socket.end();
    return ended;
  }

  /** Closes the connection now (CLIENT KILL, shutdown). */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
