/**
 * A Logbook server in this process on 127.0.0.1 and a free port, on a fresh data directory,
 * with a small client for it. Closed (and its directory removed) by `stop`.
 */
import { type Logger, pino } from "pino";
import type { FileSystem } from "../../src/io/file-system.js";
import { type ConfigInput, resolveConfig } from "../../src/server/config.js";
import { LogbookServer } from "../../src/server/server.js";
import { tempDir } from "./temp.js";

export interface TestServer {
  server: LogbookServer;
  url: string;
  dir: string;
  /** fetch against the server, JSON bodies made easy. */
  call(method: string, path: string, init?: CallInit): Promise<Reply>;
  stop(): Promise<void>;
}

export interface CallInit {
  json?: unknown;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  token?: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when it is not JSON); tests read it freely. */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the route answers, and asserts on it
  json: any;
}

export async function startTestServer(
  config: ConfigInput = {},
  options: { fileSystem?: FileSystem; dir?: string; logger?: Logger; tracing?: boolean } = {},
): Promise<TestServer> {
  const temp = options.dir === undefined ? await tempDir("logbook-server-") : undefined;
  const dir = options.dir ?? (temp?.path as string);
  let server: LogbookServer;
  try {
    server = await LogbookServer.start(
      resolveConfig({ dataDir: dir, host: "127.0.0.1", port: 0, respPort: 0, idempotencySweepMs: 60_000, ...config }),
      {
        logger: options.logger ?? pino({ level: "silent" }),
        tracing: options.tracing ?? false,
        ...(options.fileSystem === undefined ? {} : { fileSystem: options.fileSystem }),
      },
    );
  } catch (error) {
    await temp?.cleanup();
    throw error;
  }
  const url = server.url;
  return {
    server,
    url,
    dir,
    call: (method, path, init = {}) => call(url, method, path, init),
    async stop() {
      await server.close();
      await temp?.cleanup();
    },
  };
}

export async function call(url: string, method: string, path: string, init: CallInit = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | Uint8Array | undefined = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
