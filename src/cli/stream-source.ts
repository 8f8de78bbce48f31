/**
 * Where `logbook stream` reads and writes: a data directory opened in this process (the
 * store's own API, keys inside a tenant's range as the server names them), or a running
 * server reached over HTTP (`--url`), which holds the directory's lock while it runs. Both
 * answer in the HTTP API's shapes, so the commands print them the same way.
 */
import { resolve } from "node:path";
import { LogbookError } from "../errors.js";
import { Store } from "../store/index.js";

export interface CliEntry {
  id: string;
  fields: [string, string][] | null;
}

export interface RangeArgs {
  start?: string;
  end?: string;
  count?: number;
  reverse?: boolean;
}

export interface StreamSource {
  add(key: string, fields: [string, string][], id: string | undefined): Promise<string>;
  range(key: string, args: RangeArgs): Promise<CliEntry[]>;
  /** Entries after `after` (`$`: the last now); with blockMs, waits that long for some. `next` is the ID to read after next. */
  read(key: string, after: string, count: number, blockMs: number | undefined): Promise<{ entries: CliEntry[]; next: string }>;
  groups(key: string): Promise<Record<string, unknown>[]>;
  pending(key: string, group: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A failed HTTP request, as the server answered it: `logbook: <message> [<code>]`, exit 2. */
export class ServerAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ServerAnswerError";
  }
}

/** The data directory `dir`, its keys under `keyPrefix` (a tenant's range, or none with --raw). */
export async function openDirectorySource(dir: string, keyPrefix: string, readOnly: boolean): Promise<StreamSource> {
  const store = await Store.open(resolve(dir), { readOnly });
  const streams = store.streams;
  return {
    async add(key, fields, id) {
      return (await streams.add(keyPrefix + key, fields, id === undefined ? {} : { id })) as string;
    },
    range: (key, args) => streams.range(keyPrefix + key, args),
    async read(key, after, count, blockMs) {
      if (blockMs !== undefined) {
        throw new LogbookError(
          "LOGBOOK_INVALID_ARGUMENT",
          "following a stream needs --url: a directory is written by one process",
        );
      }
      const from = after === "$" ? "+" : `(${after}`;
      const entries = after === "$" ? [] : await streams.range(keyPrefix + key, { start: from, count });
      return { entries, next: entries.length > 0 ? (entries[entries.length - 1] as CliEntry).id : after };
    },
    groups: async (key) => streams.groups(keyPrefix + key).map((g) => ({ ...g })),
    pending: async (key, group) => streams.pending(keyPrefix + key, group),
    close: () => store.close(),
  };
}

/** A running server at `url`, with a bearer token when given. */
export function httpSource(url: string, token: string | undefined): StreamSource {
  const base = url.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = (text.length > 0 ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!response.ok) {
      const error = (parsed.error ?? {}) as { code?: string; message?: string };
      throw new ServerAnswerError(response.status, error.code ?? `HTTP ${response.status}`, error.message ?? text);
    }
    return parsed;
  };
  const streamPath = (key: string) => `/v1/streams/${encodeURIComponent(key)}`;
  const query = (params: Record<string, string | number | boolean | undefined>) => {
    const given = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
    return given.length === 0
      ? ""
      : `?${new URLSearchParams(given.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
  };
  return {
    async add(key, fields, id) {
      return (await call("POST", `${streamPath(key)}/entries`, { fields, ...(id === undefined ? {} : { id }) })).id as string;
    },
    async range(key, args) {
      const answer = await call("GET", `${streamPath(key)}/entries${query({ ...args })}`);
      return answer.entries as CliEntry[];
    },
    async read(key, after, count, blockMs) {
      const answer = await call("GET", `${streamPath(key)}/entries${query({ after, count, blockMs })}`);
      return { entries: answer.entries as CliEntry[], next: answer.next as string };
    },
    groups: async (key) => (await call("GET", streamPath(key))).groups as Record<string, unknown>[],
    pending: (key, group) => call("GET", `${streamPath(key)}/groups/${encodeURIComponent(group)}/pending`),
    close: async () => undefined,
  };
}
