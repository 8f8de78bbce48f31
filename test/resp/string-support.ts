/**
 * Shared by the string command tests: a server with one client, errors as their text, and a
 * stream made under a key (through the store: the stream commands are another family's).
 */
import { connect } from "node:net";
import { OPEN_TENANT } from "../../src/server/auth.js";
import type { ConfigInput } from "../../src/server/config.js";
import { dataPrefix } from "../../src/server/namespace.js";
import {
  encodeCommand,
  RawClient,
  RespReplyError,
  type RespTestServer,
  type RespValue,
  startRespServer,
} from "../support/resp.js";

export interface StringTest {
  server: RespTestServer;
  client: RawClient;
}

/** Runs `body` against a fresh server and client, closing both after. */
export async function withServer(body: (test: StringTest) => Promise<void>, config: ConfigInput = {}): Promise<void> {
  const server = await startRespServer(config);
  const client = await RawClient.connect(server.respPort);
  try {
    await body({ server, client });
  } finally {
    client.close();
    await server.stop();
  }
}

/** An error reply as "-message", other replies as they are: errors compare as plain values. */
export function plain(value: RespValue): RespValue {
  if (value instanceof RespReplyError) return `-${value.message}`;
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** Sends each command in turn and answers their replies, errors as "-message". */
export async function replies(client: RawClient, commands: (string | number | Buffer)[][]): Promise<RespValue[]> {
  return (await client.pipeline(commands)).map(plain);
}

/** The store key a client of the open tenant names `name` by. */
export function internalKey(name: string): string {
  return dataPrefix(OPEN_TENANT) + name;
}

/** Makes `name` hold a stream with one entry. */
export async function makeStream(server: RespTestServer, name: string): Promise<void> {
  await server.server.store.streams.add(internalKey(name), { f: "v" });
}

export const WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_AN_INTEGER = "-ERR value is not an integer or out of range";
export const SYNTAX = "-ERR syntax error";

/**
 * The replies to `commands` exactly as they come on the wire, each without its CRLF (`:N`,
 * `$3`+`abc` as "$abc", `-ERR …`, `+OK`): for integers beyond 2^53, which RawClient reads as
 * doubles. Only replies that are not arrays.
 */
export function wireReplies(port: number, commands: (string | number)[][]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    let buffer = "";
    const found: string[] = [];
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        const end = buffer.indexOf("\r\n");
        if (end === -1) return;
        const line = buffer.slice(0, end);
        if (line.startsWith("$") && line !== "$-1") {
          const length = Number(line.slice(1));
          if (buffer.length < end + 2 + length + 2) return;
          found.push(`$${buffer.slice(end + 2, end + 2 + length)}`);
          buffer = buffer.slice(end + 2 + length + 2);
        } else {
          found.push(line);
          buffer = buffer.slice(end + 2);
        }
        if (found.length === commands.length) {
          socket.destroy();
          resolve(found);
          return;
        }
      }
    });
  });
}
