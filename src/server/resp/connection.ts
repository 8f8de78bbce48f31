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
 * Backpressure. A write that finds the server's bound on writes in flight full waits, with the
 * commands behind it, for this connection's own writes in flight, if it has any: a pipeline of
 * writes is then read as fast as the disk makes them durable, not refused. Without any of its
 * own in flight it runs and is refused (TRYAGAIN): waiting on other clients' writes would be a
 * queue with no bound but the client count.
 *
 * Bounds. What a connection holds is bounded three ways. A pipeline with more than
 * `pipelineBytesMax` bytes received and not yet answered, or more than that many bytes of
 * replies the client has not read yet, stops being read until it drains (TCP then pushes back
 * on the client). Replies waiting to be written past `outputBytesMax` (a client that pipelines
 * reads of large values and does not read the replies; within one chunk of input those can
 * grow far past the pause threshold) close the connection at once, as Redis's
 * client-output-buffer-limit does. The parser bounds what it holds of one command.
 *
 * Closing. After a protocol error or QUIT the connection writes its last replies and ends
 * without a reset that would make the client lose them (closing.ts).
 */
import type { Socket } from "node:net";
import { endAndLinger } from "./closing.js";
import type { CommandContext } from "./context.js";
import { dispatch, isBlocking, isWrite } from "./dispatch.js";
import { asRespError } from "./errors.js";
import { ProtocolError, RequestParser } from "./parser.js";
import { errorReply, type Reply } from "./reply.js";
import type { RespSettings } from "./settings.js";
import type { RespStats } from "./stats.js";

type Command = { args: string[]; bytes: number };

/** Replies are handed to the socket in writes of about this many bytes (one string each). */
const WRITE_BYTES = 1024 * 1024;

export class RespConnection {
  private readonly parser: RequestParser;
  /**
   * Replies in command order, from `head`; undefined: not ready yet; answered ones are emptied.
   * A reply's slot is an absolute number: index `slot - base` here (the array's front is cut off
   * now and then, and `base` moves).
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
  /** Bytes of replies ready here and not yet handed to the socket. */
  private replyBytes = 0;
  private flushQueued = false;
  private paused = false;
  /** Set once nothing more may be written (ended or destroyed). */
  private closed = false;
  /** Set after a protocol error: its reply, sent (and the connection ended) once the replies before it are out. */
  private lastWords: string | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly context: CommandContext,
    private readonly settings: RespSettings,
    private readonly stats: RespStats,
    /** The server's bound on writes in flight. */
    private readonly admission: { readonly hasRoom: boolean },
    private readonly onClose: () => void,
    /** A bug met while serving this connection (it is closed; the server goes on). */
    private readonly onBug: (error: unknown) => void,
  ) {
    this.parser = new RequestParser(settings, () => context.session.principal === undefined);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("drain", () => this.resumeIfDrained());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
      this.context.session.disconnect();
      this.onClose();
    });
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs);
      socket.on("timeout", () => this.idle());
    }
  }

  /** Bytes held for this client: unparsed input, and replies not yet written. */
  get bufferedBytes(): number {
    return this.parser.heldBytes + this.replyBytes + this.socket.writableLength;
  }

  private received(chunk: Buffer): void {
    if (this.closed || this.lastWords !== undefined) return;
    this.context.session.lastInteraction = Date.now();
    try {
      this.parser.feed(chunk, this.take);
      if (this.closed) return;
      this.flush();
    } catch (error) {
      if (error instanceof ProtocolError) this.failProtocol(error);
      else this.failOnBug(error);
      return;
    }
    this.pauseIfFull();
  }

  private readonly take = (args: string[], bytes: number): void => {
    if (this.closed || this.lastWords !== undefined || this.context.session.closing) return;
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
    if (this.lastWrite !== undefined && (!write || !this.admission.hasRoom)) {
      // A read waits for this connection's writes: they apply in LSN order, so the newest settling means all have.
      // A write that finds the in-flight bound full while this connection holds part of it waits for them too.
      this.hold(this.lastWrite);
      return false;
    }
    const slot = this.base + this.replies.length;
    this.pendingBytesByReply.push(bytes);
    let result = dispatch(this.context, args);
    if (write && typeof result === "string") {
      // A write that logged nothing decided from the newest state, which may hold writes not yet
      // acknowledged: its reply waits for them (a failed log makes it an error reply).
      const applied = this.context.store.keyspace.whenSequencedApplied();
      if (applied !== undefined) {
        const reply = result;
        result = applied.then(
          () => reply,
          (error: unknown) => errorReply(asRespError(error).message),
        );
      }
    }
    if (typeof result === "string") {
      this.replies.push(result);
      this.replyBytes += result.length;
      this.refuseIfOverflowing();
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
      try {
        this.runBacklog();
        this.flush();
      } catch (error) {
        this.failOnBug(error);
      }
    });
    this.gate = gate;
  }

  private runBacklog(): void {
    while (this.gate === undefined && this.backlogHead < this.backlog.length && !this.closed) {
      // After QUIT nothing more runs: Redis closes such a client once its replies are out.
      if (this.context.session.closing) break;
      const { args, bytes } = this.backlog[this.backlogHead] as Command;
      if (!this.execute(args, bytes)) break;
      this.backlog[this.backlogHead++] = undefined as unknown as Command;
    }
    if (this.backlogHead === this.backlog.length || this.context.session.closing) {
      this.backlog = [];
      this.backlogHead = 0;
    }
  }

  private settle(slot: number, reply: Reply): void {
    if (this.closed) return;
    this.replies[slot - this.base] = reply;
    this.replyBytes += reply.length;
    if (this.refuseIfOverflowing() || this.flushQueued) return;
    this.flushQueued = true;
    // Replies settled by the same commit are written together, after all of them settle.
    queueMicrotask(this.flushQueuedReplies);
  }

  private readonly flushQueuedReplies = (): void => {
    this.flushQueued = false;
    try {
      this.flush();
    } catch (error) {
      this.failOnBug(error);
    }
  };

  /** Past `outputBytesMax` of replies not yet written: the connection is closed now (true). */
  private refuseIfOverflowing(): boolean {
    if (this.replyBytes + this.socket.writableLength <= this.settings.outputBytesMax) return false;
    this.stats.refused("output_buffer");
    this.destroy();
    return true;
  }

  /** Writes the replies ready at the front, in as few socket writes as their size allows. */
  private flush(): void {
    let out = "";
    let i = this.head;
    let answeredBytes = 0;
    const replies = this.replies;
    while (i < replies.length) {
      const reply = replies[i];
      if (reply === undefined) break;
      out += reply;
      // An answered reply is let go now, not when the front is cut off (it may be large).
      replies[i] = "";
      answeredBytes += this.pendingBytesByReply[i] as number;
      i++;
      if (out.length >= WRITE_BYTES) {
        this.write(out);
        out = "";
      }
    }
    if (i === this.head) return;
    this.cutAnswered(i);
    this.pendingBytes -= answeredBytes;
    if (out.length > 0) this.write(out);
    if (this.closed) return;
    if (this.endIfAnswered()) return;
    this.resumeIfDrained();
  }

  /** After QUIT or a protocol error, once every reply is out: ends the connection (true). */
  private endIfAnswered(): boolean {
    if (this.closed) return true;
    const ending = this.context.session.closing || this.lastWords !== undefined;
    if (!ending || this.replies.length > this.head || this.gate !== undefined || this.backlogHead < this.backlog.length)
      return false;
    this.endAfterReplies(this.lastWords ?? "");
    return true;
  }

  private write(out: string): void {
    this.replyBytes -= out.length;
    if (!this.closed) this.socket.write(out, "latin1");
  }

  /** The replies before `i` are answered: forgets them, cutting the array's front off now and then. */
  private cutAnswered(i: number): void {
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
  }

  private pauseIfFull(): void {
    const max = this.settings.pipelineBytesMax;
    if (this.paused || this.closed || (this.pendingBytes <= max && this.socket.writableLength <= max)) return;
    this.paused = true;
    this.socket.pause();
  }

  private resumeIfDrained(): void {
    const half = this.settings.pipelineBytesMax / 2;
    if (!this.paused || this.closed || this.pendingBytes > half || this.socket.writableLength > half) return;
    this.paused = false;
    this.socket.resume();
  }

  /** The socket saw no traffic for `idleTimeoutMs`: closed, unless a command of it is still running or waiting. */
  private idle(): void {
    const busy = this.context.session.blocked || this.head < this.replies.length || this.backlogHead < this.backlog.length;
    if (this.closed || busy) return;
    this.stats.refused("idle_timeout");
    this.destroy();
  }

  /**
   * A protocol error: nothing more is read (the framing is lost); the commands before it run
   * and are answered, then the error, and the connection ends, as in Redis.
   */
  private failProtocol(error: ProtocolError): void {
    this.stats.refused("protocol_error");
    this.stats.error("ERR");
    this.lastWords = errorReply(`ERR ${error.message}`);
    this.flush();
    this.endIfAnswered();
  }

  private failOnBug(error: unknown): void {
    if (this.closed) return;
    this.stats.refused("internal_error");
    this.destroy();
    this.onBug(error);
  }

  /** Writes `last`, ends this side, drops what the client still sends, and is destroyed when it ends too (or soon). */
  private endAfterReplies(last: string): void {
    this.closed = true;
    endAndLinger(this.socket, last);
  }

  /** Stops reading; resolves once the replies of the commands already taken are written and the socket ends. */
  finish(): Promise<void> {
    this.context.session.closing = true;
    this.socket.pause();
    const ended = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.once("close", () => resolve());
    });
    if (!this.closed) this.endIfAnswered();
    return ended;
  }

  /** Closes the connection now (CLIENT KILL, shutdown, limits). */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
