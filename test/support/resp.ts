/**
 * The Redis endpoint in tests: an in-process server with its Redis port on 127.0.0.1 (a free
 * port), and a raw RESP2 client that sends commands and reads replies exactly as they come
 * (errors as RespReplyError values, not thrown), for assertions on Redis's wire replies.
 */
import { connect, createServer, type Socket } from "node:net";
import type { ConfigInput } from "../../src/server/config.js";
import { startTestServer, type TestServer } from "./server.js";

/** A free TCP port on 127.0.0.1 (probed: another process may still take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RespTestServer extends TestServer {
  respPort: number;
}

/** A test server with its Redis endpoint on; retried on another port if the probed one was taken meanwhile. */
export async function startRespServer(
  config: ConfigInput = {},
  options: Parameters<typeof startTestServer>[1] = {},
): Promise<RespTestServer> {
  for (let attempt = 0; ; attempt++) {
    const respPort = await freePort();
    try {
      const server = await startTestServer({ respPort, ...config }, options);
      return { ...server, respPort: server.server.resp?.port ?? respPort };
    } catch (error) {
      if (attempt >= 5 || (error as { code?: string }).code !== "LOGBOOK_ADDRESS_IN_USE") throw error;
    }
  }
}

export class RespReplyError {
  constructor(readonly message: string) {}
}

/** A RESP2 reply: simple strings and bulk strings as strings (latin1), integers as numbers, nil as null. */
export type RespValue = string | number | null | RespReplyError | RespValue[];

/** A raw RESP2 client: `call` sends one command and resolves with its reply; `send` writes raw bytes. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private readonly waiting: ((value: RespValue) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        resolve();
      }),
    );
    socket.on("error", () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port }, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** A client over a socket already connected (a TLS one, say). */
  static over(socket: Socket): RawClient {
    return new RawClient(socket);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Sends a command as a multibulk; resolves with its reply. */
  call(...args: (string | number | Buffer)[]): Promise<RespValue> {
    this.socket.write(encodeCommand(args));
    return this.next();
  }

  /** Sends several commands in one write (a pipeline); resolves with their replies in order. */
  pipeline(commands: (string | number | Buffer)[][]): Promise<RespValue[]> {
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(commands.map(() => this.next()));
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next reply to arrive. */
  next(): Promise<RespValue> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const parsed = parseReply(this.buffer, 0);
      if (parsed === undefined) return;
      this.buffer = this.buffer.subarray(parsed.end);
      (this.waiting.shift() as (value: RespValue) => void)(parsed.value);
    }
  }
}

export function encodeCommand(args: (string | number | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

function parseReply(buffer: Buffer, at: number): { value: RespValue; end: number } | undefined {
  const lineEnd = buffer.indexOf("\r\n", at);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[at] as number);
  const line = buffer.toString("latin1", at + 1, lineEnd);
  const next = lineEnd + 2;
  if (type === "+") return { value: line, end: next };
  if (type === "-") return { value: new RespReplyError(line), end: next };
  if (type === ":") return { value: Number(line), end: next };
  if (type === "$") {
    const length = Number(line);
    if (length < 0) return { value: null, end: next };
    if (buffer.length < next + length + 2) return undefined;
    return { value: buffer.toString("latin1", next, next + length), end: next + length + 2 };
  }
  if (type === "*") {
    const count = Number(line);
    if (count < 0) return { value: null, end: next };
    const items: RespValue[] = [];
    let end = next;
    for (let i = 0; i < count; i++) {
      const item = parseReply(buffer, end);
      if (item === undefined) return undefined;
      items.push(item.value);
      end = item.end;
    }
    return { value: items, end };
  }
  throw new Error(`unexpected reply type ${JSON.stringify(type)}`);
}

/** Runs `fn` with a fresh server and one client, closing both after. */
export async function withRespClient(
  fn: (client: RawClient, server: RespTestServer) => Promise<void>,
  config: ConfigInput = {},
): Promise<void> {
  const server = await startRespServer(config);
  const client = await RawClient.connect(server.respPort);
  try {
    await fn(client, server);
  } finally {
    client.close();
    await server.stop();
  }
}

/** A flat array of name/value pairs (XINFO, HELLO) as an object. */
export function pairsOf(reply: RespValue): Record<string, RespValue> {
  const items = reply as RespValue[];
  const map: Record<string, RespValue> = {};
  for (let i = 0; i < items.length; i += 2) map[items[i] as string] = items[i + 1] as RespValue;
  return map;
}
