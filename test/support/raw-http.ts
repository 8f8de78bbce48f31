/**
 * Raw HTTP for tests that must send what no well-behaved client would: bytes written as
 * given, the answer read until the server closes (or a deadline passes).
 */
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  /** The status of the first response, if one came. */
  status: number | undefined;
  text: string;
  /** Whether the server closed the connection (rather than the deadline passing). */
  closedByServer: boolean;
}

export function rawExchange(
  port: number,
  request: string | Buffer | ((socket: Socket) => void),
  timeoutMs = 3000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match === null ? undefined : Number(match[1]), text, closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", () => {
      if (typeof request === "function") request(socket);
      else socket.write(request);
    });
  });
}

/** The bytes of a request, exactly as given: no header is added but Host and Connection: close. */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body = ""): string {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** Resolves with the status of a raw request for `path` (method GET unless given; Content-Length added for a body). */
export async function rawStatus(port: number, path: string, headers: Record<string, string> = {}, method = "GET", body = "") {
  const length: Record<string, string> = body.length > 0 ? { "Content-Length": String(Buffer.byteLength(body)) } : {};
  const answer = await rawExchange(port, rawRequest(method, path, { ...length, ...headers }, body));
  return { status: answer.status, body: answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4) };
}
