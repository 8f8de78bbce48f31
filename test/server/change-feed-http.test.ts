/**
 * The change feed over HTTP (docs/http.md, "Change feed"): Server-Sent Events of a tenant's
 * own changes, resumable by Last-Event-ID, read through named cursors; typed errors for bad
 * input and for positions the log no longer holds; a ceiling on open streams.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "../support/server.js";

const ACME = "acme-token-0123456789";
const BETA = "beta-token-0123456789";
const READER = "acme-reader-0123456789";
const TOKENS = [
  { token: ACME, tenant: "acme" },
  { token: BETA, tenant: "beta" },
  { token: READER, tenant: "acme", access: "read" },
];
/** How long a test waits for the events it expects. */
const EVENTS_WAIT_MS = 5000;

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

interface SseStream {
  status: number;
  headers: Headers;
  /** The next `count` events (not comments), each within EVENTS_WAIT_MS. */
  events(count: number): Promise<SseEvent[]>;
  /** Waits for a comment line (`: ...`). */
  comment(): Promise<string>;
  close(): void;
}

/** Opens GET `path` as an event stream; a non-200 answer is read whole and thrown. */
async function openStream(s: TestServer, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(s.url + path, { headers, signal: controller.signal });
  if (response.status !== 200) {
    const body = await response.text();
    throw Object.assign(new Error(`status ${response.status}: ${body}`), { status: response.status, body: JSON.parse(body) });
  }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const comments: string[] = [];
  const parsed: SseEvent[] = [];
  const readMore = async (deadline: number) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no event in time")), deadline - Date.now());
    });
    const chunk = await Promise.race([reader.read(), late]).finally(() => clearTimeout(timer));
    if (chunk.done) throw new Error("the stream ended");
    buffered += decoder.decode(chunk.value, { stream: true });
    for (let end = buffered.indexOf("\n\n"); end !== -1; end = buffered.indexOf("\n\n")) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event: SseEvent = { data: "" };
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) comments.push(line);
        else if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) parsed.push({ ...event, data: data.join("\n") });
    }
  };
  return {
    status: response.status,
    headers: response.headers,
    async events(count) {
      const deadline = Date.now() + EVENTS_WAIT_MS;
      while (parsed.length < count) await readMore(deadline);
      return parsed.splice(0, count);
    },
    async comment() {
      const deadline = Date.now() + EVENTS_WAIT_MS;
      while (comments.length === 0) await readMore(deadline);
      return comments.shift() as string;
    },
    close: () => controller.abort(),
  };
}

async function refusal(s: TestServer, path: string, headers: Record<string, string>): Promise<{ status: number; code: string }> {
  try {
    const stream = await openStream(s, path, headers);
    stream.close();
    return { status: 200, code: "" };
  } catch (error) {
    const { status, body } = error as { status: number; body: { error: { code: string } } };
    return { status, code: body.error.code };
  }
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe("GET /v1/changes", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      tokens: TOKENS,
      feedHeartbeatMs: 200,
      preallocate: false,
      checkpointEveryBytes: 0,
      segmentBytes: 4 * 1024 * 1024 + 64,
    });
  });
  after(() => s.stop());

  test("streams a tenant's own changes as events, keys without its prefix, ids resumable", async () => {
    const from = s.server.store.stats().appliedLsn + 1;
    assert.equal((await s.call("PUT", "/v1/kv/a", { json: { n: 1 }, token: ACME })).status, 200);
    assert.equal((await s.call("PUT", "/v1/kv/secret", { json: "beta's", token: BETA })).status, 200);
    assert.equal((await s.call("DELETE", "/v1/kv/a", { token: ACME })).status, 200);
    const batch = await s.call("POST", "/v1/kv:batch", {
      json: {
        operations: [
          { type: "put", key: "b", value: [1] },
          { type: "put", key: "c", value: "two\nlines" },
        ],
      },
      token: ACME,
    });
    assert.equal(batch.status, 200);
    const stream = await openStream(s, `/v1/changes?from=${from}`, auth(ACME));
    assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = await stream.events(4);
    stream.close();
    const changes = events.map((e) => JSON.parse(e.data));
    assert.deepEqual(
      changes.map((c) => [c.key, c.type, c.value]),
      [
        ["a", "put", { n: 1 }],
        ["a", "delete", undefined],
        ["b", "put", [1]],
        ["c", "put", "two\nlines"],
      ],
    );
    assert.deepEqual(
      events.map((e) => e.id),
      changes.map((c) => `${c.lsn}.${c.index}`),
    );
    const batchLsn = changes[2].lsn;
    assert.equal(changes[3].lsn, batchLsn, "a batch's changes share its LSN");
    assert.equal(changes[3].index, 1);

    // A reconnect resumes after the last event it saw, inside a batch too.
    const resumed = await openStream(s, `/v1/changes?from=${from}`, { ...auth(ACME), "last-event-id": `${batchLsn}.0` });
    assert.deepEqual(
      (await resumed.events(1)).map((e) => e.id),
      [`${batchLsn}.1`],
    );
    resumed.close();
    const after = await openStream(s, "/v1/changes", { ...auth(ACME), "last-event-id": String(changes[0].lsn) });
    assert.deepEqual(
      (await after.events(1)).map((e) => JSON.parse(e.data).type),
      ["delete"],
    );
    after.close();
  });

  test("another tenant sees none of them; a quiet stream gets heartbeats; new writes arrive live", async () => {
    const stream = await openStream(s, "/v1/changes?from=1", auth(BETA));
    const [own] = await stream.events(1);
    assert.equal(JSON.parse(own?.data ?? "{}").key, "secret");
    assert.match(await stream.comment(), /^: /);
    assert.equal((await s.call("PUT", "/v1/kv/live", { json: 1, token: BETA })).status, 200);
    const [live] = await stream.events(1);
    assert.equal(JSON.parse(live?.data ?? "{}").key, "live");
    stream.close();
  });

  test("bad input gets typed errors: malformed Last-Event-ID or from, unknown cursor or parameter", async () => {
    assert.deepEqual(await refusal(s, "/v1/changes", { ...auth(ACME), "last-event-id": "abc" }), {
      status: 400,
      code: "LOGBOOK_BAD_REQUEST",
    });
    assert.deepEqual(await refusal(s, "/v1/changes", { ...auth(ACME), "last-event-id": "5.x" }), {
      status: 400,
      code: "LOGBOOK_BAD_REQUEST",
    });
    assert.deepEqual(await refusal(s, "/v1/changes?from=-1", auth(ACME)), { status: 400, code: "LOGBOOK_BAD_REQUEST" });
    assert.deepEqual(await refusal(s, "/v1/changes?from=999999", auth(ACME)), { status: 400, code: "LOGBOOK_BAD_REQUEST" });
    assert.deepEqual(await refusal(s, "/v1/changes?tenant=beta", auth(ACME)), { status: 400, code: "LOGBOOK_BAD_REQUEST" });
    assert.deepEqual(await refusal(s, "/v1/changes?cursor=nobody", auth(ACME)), { status: 404, code: "LOGBOOK_NOT_FOUND" });
    assert.deepEqual(await refusal(s, "/v1/changes?cursor=a%2Fb", auth(ACME)), { status: 400, code: "LOGBOOK_BAD_REQUEST" });
    assert.deepEqual(await refusal(s, "/v1/changes", {}), { status: 401, code: "LOGBOOK_UNAUTHORIZED" });
  });

  test("a position the log no longer holds gets 410 LOGBOOK_TRUNCATED", async () => {
    const store = s.server.store;
    const big = JSON.stringify("x".repeat(1_000_000));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 6; i++) await store.put(`k/acme/big-${i}`, big);
      await store.checkpoint();
    }
    assert.ok(store.logStats.firstLsn > 1, "two checkpoints freed the oldest segment");
    const answer = await s.call("GET", "/v1/changes?from=1", { token: ACME });
    assert.equal(answer.status, 410);
    assert.equal(answer.json.error.code, "LOGBOOK_TRUNCATED");
    assert.match(answer.json.error.message, /snapshot/);
  });
});

describe("/v1/feed-cursors", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ tokens: TOKENS, feedConnectionsMax: 2, preallocate: false });
  });
  after(() => s.stop());

  test("create, read through, acknowledge, list and drop a cursor, within the tenant", async () => {
    assert.equal((await s.call("PUT", "/v1/feed-cursors/app", { token: READER })).status, 403, "a read token may not");
    const created = await s.call("PUT", "/v1/feed-cursors/app", { token: ACME });
    assert.equal(created.status, 201);
    assert.equal(created.json.name, "app");
    assert.equal((await s.call("PUT", "/v1/feed-cursors/app", { token: ACME })).json.error.code, "LOGBOOK_CONFLICT");
    const lsn = (await s.call("PUT", "/v1/kv/one", { json: 1, token: ACME })).headers.get("etag");
    assert.ok(lsn !== null);
    const stream = await openStream(s, "/v1/changes?cursor=app", auth(ACME));
    const [event] = await stream.events(1);
    stream.close();
    const change = JSON.parse(event?.data ?? "{}");
    assert.equal(change.key, "one");
    const acked = await s.call("POST", "/v1/feed-cursors/app/ack", { json: { lsn: change.lsn }, token: ACME });
    assert.equal(acked.status, 200);
    assert.equal(acked.json.lsn, change.lsn);
    assert.equal((await s.call("POST", "/v1/feed-cursors/app/ack", { json: { lsn: "x" }, token: ACME })).status, 400);
    const listed = await s.call("GET", "/v1/feed-cursors", { token: ACME });
    assert.deepEqual(
      listed.json.items.map((c: { name: string; lsn: number }) => [c.name, c.lsn]),
      [["app", change.lsn]],
    );
    const metrics = await s.call("GET", "/metrics");
    assert.match(metrics.text, /^logbook_feed_cursors 1$/m);
    assert.match(metrics.text, /^logbook_feed_cursor_lag_bytes\{cursor="acme\/app"\} 0$/m);
    assert.match(metrics.text, /^logbook_feed_cursors_dropped_total 0$/m);
    assert.match(metrics.text, /^logbook_feed_connections \d+$/m);
    const status = await s.call("GET", "/status.json");
    assert.equal(status.json.feedCursors, 1);
    assert.equal(status.json.feedCursorsDropped, 0);
    // Another tenant neither sees nor touches it.
    assert.deepEqual((await s.call("GET", "/v1/feed-cursors", { token: BETA })).json.items, []);
    assert.equal((await s.call("POST", "/v1/feed-cursors/app/ack", { json: { lsn: 1 }, token: BETA })).status, 404);
    assert.equal((await s.call("DELETE", "/v1/feed-cursors/app", { token: BETA })).status, 404);
    assert.equal((await s.call("DELETE", "/v1/feed-cursors/app", { token: ACME })).status, 200);
    assert.equal((await s.call("GET", "/v1/changes?cursor=app", { token: ACME })).status, 404);
  });

  test("past feedConnectionsMax open streams a new one gets 429; shutdown ends open streams", async () => {
    const open = [await openStream(s, "/v1/changes", auth(ACME)), await openStream(s, "/v1/changes", auth(BETA))];
    assert.deepEqual(await refusal(s, "/v1/changes", auth(ACME)), { status: 429, code: "LOGBOOK_OVERLOADED" });
    open[1]?.close();
    const deadline = Date.now() + EVENTS_WAIT_MS;
    let reopened: SseStream | undefined;
    while (reopened === undefined && Date.now() < deadline) {
      reopened = await openStream(s, "/v1/changes", auth(BETA)).catch(() => undefined);
      if (reopened === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(reopened !== undefined, "a closed stream gives its place back");
    const startedMs = Date.now();
    await s.server.close();
    assert.ok(Date.now() - startedMs < EVENTS_WAIT_MS, "open streams do not hold the shutdown until its deadline");
  });
});
