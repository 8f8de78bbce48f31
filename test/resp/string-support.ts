/**
 * Shared by the string command tests: a server with one client, errors as their text, and a
 * stream made under a key (through the store: the stream commands are another family's).
 */
import { OPEN_TENANT } from "../../src/server/auth.js";
import type { ConfigInput } from "../../src/server/config.js";
import { dataPrefix } from "../../src/server/namespace.js";
import { RawClient, RespReplyError, type RespTestServer, type RespValue, startRespServer } from "../support/resp.js";

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
