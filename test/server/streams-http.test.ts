/**
 * Streams over HTTP (docs/http.md, "Streams"): adds, ranges and reads round trip; an add
 * with an Idempotency-Key is applied once; a blocking read is woken by an add, times out with
 * an empty list, and frees its waiter when its client leaves; consumer groups; tenants see
 * only their own streams; bad input gets typed 4xx answers; the metrics show streams.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestServer, type TestServer } from "../support/server.js";

const ACME = "acme-token-0123456789";
const BETA = "beta-token-0123456789";
const READER = "acme-reader-0123456789";
const TOKENS = [
  { token: ACME, tenant: "acme" },
  { token: BETA, tenant: "beta" },
  { token: READER, tenant: "acme", access: "read" },
];
/** The longest a test waits for a condition it polls. */
const WAIT_MS = 5000;
const BLOCK_MS_MAX = 3000;

let s: TestServer;
before(async () => {
  s = await startTestServer({ tokens: TOKENS, streamBlockMsMax: BLOCK_MS_MAX, streamBlockedReadsMax: 4 });
});
after(() => s.stop());

const add = (key: string, fields: unknown, extra: Record<string, unknown> = {}, token = ACME, headers = {}) =>
  s.call("POST", `/v1/streams/${encodeURIComponent(key)}/entries`, { json: { fields, ...extra }, token, headers });

async function metric(name: string): Promise<number | undefined> {
  const text = (await s.call("GET", "/metrics")).text;
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("entries", () => {
  test("an add returns its ID; a range reads entries back in order, fields as pairs", async () => {
    assert.deepEqual((await add("orders", { item: "tea", qty: "2" }, { id: "5-1" })).json, { id: "5-1" });
    assert.deepEqual((await add("orders", [["item", "cake"]], { id: "5-*" })).json, { id: "5-2" });
    const third = (await add("orders", { item: "jam" })).json.id as string;
    const all = await s.call("GET", "/v1/streams/orders/entries", { token: READER });
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.entries, [
      {
        id: "5-1",
        fields: [
          ["item", "tea"],
          ["qty", "2"],
        ],
      },
      { id: "5-2", fields: [["item", "cake"]] },
      { id: third, fields: [["item", "jam"]] },
    ]);
    const last = await s.call("GET", "/v1/streams/orders/entries?reverse=true&count=1", { token: ACME });
    assert.deepEqual(
      last.json.entries.map((e: { id: string }) => e.id),
      [third],
    );
    const after = await s.call("GET", "/v1/streams/orders/entries?after=5-1&count=1", { token: ACME });
    assert.deepEqual(after.json, { entries: [{ id: "5-2", fields: [["item", "cake"]] }], next: "5-2" });
    const info = await s.call("GET", "/v1/streams/orders", { token: READER });
    assert.equal(info.json.key, "orders");
    assert.equal(info.json.length, 3);
    assert.equal(info.json.firstEntry.id, "5-1");
    assert.deepEqual(info.json.groups, []);
  });

  test("an Idempotency-Key retry answers the first ID and adds nothing; another request with it is 422", async () => {
    const headers = { "idempotency-key": "add-once-1" };
    const first = await add("idem", { n: "1" }, {}, ACME, headers);
    assert.equal(first.status, 200);
    const retry = await add("idem", { n: "1" }, {}, ACME, headers);
    assert.equal(retry.status, 200);
    assert.equal(retry.json.id, first.json.id);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    const [a, b] = await Promise.all([
      add("idem", { n: "2" }, {}, ACME, { "idempotency-key": "add-once-2" }),
      add("idem", { n: "2" }, {}, ACME, { "idempotency-key": "add-once-2" }),
    ]);
    assert.equal(a.json.id, b.json.id);
    assert.equal((await s.call("GET", "/v1/streams/idem", { token: ACME })).json.length, 2);
    const other = await add("idem", { n: "3" }, {}, ACME, headers);
    assert.equal(other.status, 422);
    assert.equal(other.json.error.code, "LOGBOOK_IDEMPOTENCY_MISMATCH");
  });

  test("trim, delete and retention report how many entries they removed", async () => {
    for (let i = 1; i <= 5; i++) await add("trimmed", { i: String(i) }, { id: `${i}-0` });
    assert.deepEqual((await s.call("POST", "/v1/streams/trimmed/trim", { json: { maxLength: 4 }, token: ACME })).json, {
      removed: 1,
    });
    assert.deepEqual((await s.call("DELETE", "/v1/streams/trimmed/entries/3-0", { token: ACME })).json, { deleted: 1 });
    assert.deepEqual((await s.call("DELETE", "/v1/streams/trimmed/entries/3-0", { token: ACME })).json, { deleted: 0 });
    const retention = await s.call("PUT", "/v1/streams/trimmed/retention", { json: { maxLength: 1 }, token: ACME });
    assert.deepEqual(retention.json, { removed: 2 });
    const left = await s.call("GET", "/v1/streams/trimmed/entries", { token: ACME });
    assert.deepEqual(
      left.json.entries.map((e: { id: string }) => e.id),
      ["5-0"],
    );
  });
});

describe("blocking reads", () => {
  test("a read after $ waits and is woken by a concurrent add", async () => {
    await add("wake", { a: "0" });
    const started = Date.now();
    const waiting = s.call("GET", `/v1/streams/wake/entries?after=$&blockMs=${BLOCK_MS_MAX}`, { token: READER });
    await until(async () => (await metric("logbook_stream_blocked_readers")) === 1, "the reader to block");
    const added = (await add("wake", { a: "1" })).json.id;
    const answer = await waiting;
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { entries: [{ id: added, fields: [["a", "1"]] }], next: added });
    assert.ok(Date.now() - started < BLOCK_MS_MAX, "woken before its time ran out");
  });

  test("a read that times out answers an empty list and the ID to read after next", async () => {
    const last = (await add("quiet", { a: "0" })).json.id;
    const started = Date.now();
    const answer = await s.call("GET", "/v1/streams/quiet/entries?after=$&blockMs=150", { token: ACME });
    assert.ok(Date.now() - started >= 140);
    assert.deepEqual(answer.json, { entries: [], next: last });
    const missing = await s.call("GET", "/v1/streams/nothing-here/entries?after=$&blockMs=50", { token: ACME });
    assert.deepEqual(missing.json, { entries: [], next: "0-0" });
  });

  test("a client that disconnects while blocked frees its waiter", async () => {
    const controller = new AbortController();
    const waiting = fetch(`${s.url}/v1/streams/gone/entries?after=$&blockMs=${BLOCK_MS_MAX}`, {
      headers: { authorization: `Bearer ${ACME}` },
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await until(async () => (await metric("logbook_stream_blocking_requests")) === 1, "the request to block");
    assert.equal(await metric("logbook_stream_blocked_readers"), 1);
    controller.abort();
    await waiting;
    await until(async () => (await metric("logbook_stream_blocked_readers")) === 0, "the waiter to be freed");
    assert.equal(await metric("logbook_stream_blocking_requests"), 0);
  });

  test("past streamBlockedReadsMax a blocking read is refused with 429; blockMs above the ceiling is 400", async () => {
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    const waits = controllers.map((c) =>
      fetch(`${s.url}/v1/streams/full/entries?after=$&blockMs=${BLOCK_MS_MAX}`, {
        headers: { authorization: `Bearer ${ACME}` },
        signal: c.signal,
      }).catch((error: unknown) => error),
    );
    await until(async () => (await metric("logbook_stream_blocking_requests")) === 4, "four blocked reads");
    const refused = await s.call("GET", "/v1/streams/full/entries?after=$&blockMs=100", { token: ACME });
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error.code, "LOGBOOK_OVERLOADED");
    for (const c of controllers) c.abort();
    await Promise.all(waits);
    const tooLong = await s.call("GET", `/v1/streams/full/entries?after=$&blockMs=${BLOCK_MS_MAX + 1}`, { token: ACME });
    assert.equal(tooLong.status, 400);
    await until(async () => (await metric("logbook_stream_blocking_requests")) === 0, "the reads to end");
  });
});

describe("consumer groups", () => {
  test("create, read, ack, pending, claim, autoclaim, consumers", async () => {
    const g = "/v1/streams/jobs/groups/workers";
    const created = await s.call("PUT", g, { json: { start: "0", mkStream: true }, token: ACME });
    assert.equal(created.status, 201);
    const again = await s.call("PUT", g, { json: { start: "0" }, token: ACME });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, "LOGBOOK_GROUP_EXISTS");
    for (let i = 1; i <= 3; i++) await add("jobs", { n: String(i) }, { id: `${i}-0` });
    const read = await s.call("POST", `${g}/read`, { json: { consumer: "alice", count: 2 }, token: ACME });
    assert.deepEqual(
      read.json.entries.map((e: { id: string }) => e.id),
      ["1-0", "2-0"],
    );
    const rest = await s.call("POST", `${g}/read`, { json: { consumer: "bob" }, token: ACME });
    assert.deepEqual(
      rest.json.entries.map((e: { id: string }) => e.id),
      ["3-0"],
    );
    const none = await s.call("POST", `${g}/read`, { json: { consumer: "bob", blockMs: 50 }, token: ACME });
    assert.deepEqual(none.json, { entries: [] });
    assert.deepEqual((await s.call("POST", `${g}/ack`, { json: { ids: ["1-0", "9-0"] }, token: ACME })).json, { acked: 1 });
    const summary = await s.call("GET", `${g}/pending`, { token: READER });
    assert.deepEqual(summary.json, {
      count: 2,
      smallest: "2-0",
      largest: "3-0",
      consumers: [
        { name: "alice", count: 1 },
        { name: "bob", count: 1 },
      ],
    });
    const detail = await s.call("GET", `${g}/pending?consumer=alice&count=10`, { token: ACME });
    assert.deepEqual(
      detail.json.entries.map((e: { id: string; deliveries: number }) => [e.id, e.deliveries]),
      [["2-0", 1]],
    );
    const claimed = await s.call("POST", `${g}/claim`, {
      json: { consumer: "carol", minIdleMs: 0, ids: ["2-0"] },
      token: ACME,
    });
    assert.deepEqual(claimed.json.entries, [{ id: "2-0", fields: [["n", "2"]] }]);
    const auto = await s.call("POST", `${g}/autoclaim`, { json: { consumer: "carol", minIdleMs: 0 }, token: ACME });
    assert.deepEqual(
      auto.json.entries.map((e: { id: string }) => e.id),
      ["2-0", "3-0"],
    );
    assert.equal(auto.json.nextId, "0-0");
    const consumers = await s.call("GET", `${g}/consumers`, { token: ACME });
    assert.deepEqual(consumers.json.consumers.map((c: { name: string; pending: number }) => [c.name, c.pending]).sort(), [
      ["alice", 0],
      ["bob", 0],
      ["carol", 2],
    ]);
    assert.deepEqual((await s.call("DELETE", `${g}/consumers/carol`, { token: ACME })).json, { consumer: "carol", pending: 2 });
    const info = await s.call("GET", "/v1/streams/jobs", { token: ACME });
    assert.equal(info.json.groups[0].name, "workers");
    assert.equal((await s.call("DELETE", g, { token: ACME })).status, 200);
    const gone = await s.call("DELETE", g, { token: ACME });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, "LOGBOOK_NO_GROUP");
  });

  test("a blocking group read is woken by an add; a dead-letter key stays in the tenant", async () => {
    const g = "/v1/streams/tasks/groups/g";
    await s.call("PUT", g, { json: { mkStream: true, maxDeliveries: 1, deadLetterKey: "tasks-dead" }, token: ACME });
    const waiting = s.call("POST", `${g}/read`, { json: { consumer: "w", blockMs: BLOCK_MS_MAX }, token: ACME });
    await until(async () => (await metric("logbook_stream_blocked_readers")) === 1, "the group reader to block");
    const id = (await add("tasks", { t: "x" })).json.id;
    assert.deepEqual((await waiting).json.entries, [{ id, fields: [["t", "x"]] }]);
    const info = await s.call("GET", "/v1/streams/tasks", { token: ACME });
    assert.equal(info.json.groups[0].deadLetterKey, "tasks-dead");
    const claimed = await s.call("POST", `${g}/claim`, { json: { consumer: "w2", minIdleMs: 0, ids: [id] }, token: ACME });
    assert.deepEqual(claimed.json.entries, []);
    assert.deepEqual(
      claimed.json.deadLettered.map((e: { id: string }) => e.id),
      [id],
    );
    assert.equal((await s.call("GET", "/v1/streams/tasks-dead", { token: ACME })).json.length, 1);
    assert.equal(await metric("logbook_stream_dead_lettered_entries_total"), 1);
  });
});

describe("tenants and tokens", () => {
  test("a tenant sees only its own streams", async () => {
    await add("private", { a: "1" }, {}, BETA);
    const mine = await s.call("GET", "/v1/streams", { token: BETA });
    assert.deepEqual(mine.json, { items: ["private"], cursor: null });
    const theirs = await s.call("GET", "/v1/streams", { token: ACME });
    assert.ok(!theirs.json.items.includes("private"));
    assert.equal((await s.call("GET", "/v1/streams/private", { token: ACME })).status, 404);
    const range = await s.call("GET", "/v1/streams/private/entries", { token: ACME });
    assert.deepEqual(range.json.entries, []);
    const paged = await s.call("GET", "/v1/streams?limit=1", { token: ACME });
    assert.equal(paged.json.items.length, 1);
    const next = await s.call("GET", `/v1/streams?limit=1&after=${encodeURIComponent(paged.json.cursor)}`, { token: ACME });
    assert.ok(next.json.items[0] > paged.json.items[0]);
  });

  test("a key with a slash is one path segment, %2F-encoded", async () => {
    assert.equal((await add("a/b", { x: "1" }, { id: "1-0" })).status, 200);
    const range = await s.call("GET", "/v1/streams/a%2Fb/entries", { token: ACME });
    assert.deepEqual(range.json.entries, [{ id: "1-0", fields: [["x", "1"]] }]);
    assert.ok((await s.call("GET", "/v1/streams", { token: ACME })).json.items.includes("a/b"));
  });

  test("a read-only token cannot add, trim or read as a group member", async () => {
    const refused = await add("orders", { a: "1" }, {}, READER);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, "LOGBOOK_FORBIDDEN");
    assert.equal((await s.call("POST", "/v1/streams/orders/trim", { json: { maxLength: 0 }, token: READER })).status, 403);
    assert.equal((await s.call("GET", "/v1/streams/orders/entries", {})).status, 401);
  });
});

describe("bad input", () => {
  test("malformed IDs, bad JSON, huge counts, unknown groups and wrong types get typed 4xx answers", async () => {
    const cases: [Promise<{ status: number; json: { error: { code: string } } }>, number, string][] = [
      [add("bad", { a: "1" }, { id: "1-2-3" }), 400, "LOGBOOK_BAD_REQUEST"],
      [add("bad", {}), 400, "LOGBOOK_BAD_REQUEST"],
      [add("bad", { a: 1 }), 400, "LOGBOOK_BAD_REQUEST"],
      [add("bad", { a: "1" }, { extra: true }), 400, "LOGBOOK_BAD_REQUEST"],
      [
        s.call("POST", "/v1/streams/bad/entries", {
          body: "{not json",
          headers: { "content-type": "application/json" },
          token: ACME,
        }),
        400,
        "LOGBOOK_BAD_REQUEST",
      ],
      [s.call("GET", "/v1/streams/bad/entries?count=100000000", { token: ACME }), 400, "LOGBOOK_BAD_REQUEST"],
      [s.call("GET", "/v1/streams/bad/entries?count=-1", { token: ACME }), 400, "LOGBOOK_BAD_REQUEST"],
      [s.call("GET", "/v1/streams/bad/entries?start=x-y", { token: ACME }), 400, "LOGBOOK_BAD_REQUEST"],
      [s.call("GET", "/v1/streams/bad/entries?after=nope", { token: ACME }), 400, "LOGBOOK_BAD_REQUEST"],
      [s.call("GET", "/v1/streams/bad/entries?bogus=1", { token: ACME }), 400, "LOGBOOK_BAD_REQUEST"],
      [s.call("GET", "/v1/streams/orders/groups/nope/pending", { token: ACME }), 404, "LOGBOOK_NO_GROUP"],
      [s.call("POST", "/v1/streams/orders/groups/nope/read", { json: { consumer: "c" }, token: ACME }), 404, "LOGBOOK_NO_GROUP"],
      [s.call("POST", "/v1/streams/orders/groups/g/ack", { json: { ids: [] }, token: ACME }), 400, "LOGBOOK_BAD_REQUEST"],
      [
        s.call("POST", "/v1/streams/orders/trim", { json: { maxLength: 1, minId: "1" }, token: ACME }),
        400,
        "LOGBOOK_BAD_REQUEST",
      ],
      [s.call("GET", "/v1/streams/absent", { token: ACME }), 404, "LOGBOOK_NOT_FOUND"],
      [add("absent", { a: "1" }, { noMkStream: true }), 404, "LOGBOOK_NOT_FOUND"],
    ];
    for (const [pending, status, code] of cases) {
      const answer = await pending;
      assert.equal(answer.status, status, JSON.stringify(answer.json));
      assert.equal(answer.json.error.code, code, JSON.stringify(answer.json));
    }
  });

  test("a key holding a value is not a stream, and a stream is not a value: 409 LOGBOOK_WRONG_TYPE both ways", async () => {
    await s.call("PUT", "/v1/kv/plain", { json: "text", token: ACME });
    const asStream = await add("plain", { a: "1" });
    assert.equal(asStream.status, 409);
    assert.equal(asStream.json.error.code, "LOGBOOK_WRONG_TYPE");
    const asValue = await s.call("GET", "/v1/kv/orders", { token: ACME });
    assert.equal(asValue.status, 409);
    assert.equal(asValue.json.error.code, "LOGBOOK_WRONG_TYPE");
  });
});

test("the metrics and the status figures show the streams", async () => {
  const text = (await s.call("GET", "/metrics")).text;
  assert.match(text, /^logbook_streams \d+$/m);
  assert.match(text, /^logbook_stream_length\{tenant="acme",stream="orders"\} 3$/m);
  assert.match(text, /^logbook_stream_bytes\{tenant="acme",stream="orders"\} \d+$/m);
  assert.match(text, /^logbook_stream_blocked_readers 0$/m);
  assert.match(text, /^logbook_stream_blocking_requests 0$/m);
  assert.match(text, /^logbook_stream_dead_lettered_entries_total \d+$/m);
  await s.call("PUT", "/v1/streams/orders/groups/metrics-g", { json: { start: "0" }, token: ACME });
  await s.call("POST", "/v1/streams/orders/groups/metrics-g/read", { json: { consumer: "c", count: 1 }, token: ACME });
  const after = (await s.call("GET", "/metrics")).text;
  assert.match(after, /^logbook_stream_group_lag\{tenant="acme",stream="orders",group="metrics-g"\} 2$/m);
  assert.match(after, /^logbook_stream_group_pending\{tenant="acme",stream="orders",group="metrics-g"\} 1$/m);
  const status = (await s.call("GET", "/status.json")).json;
  assert.ok(status.streams >= 1);
  assert.ok(status.streamPending >= 1);
  assert.equal(status.streamBlockedReaders, 0);
  assert.equal(status.streamBlockingRequests, 0);
});

test("shutdown ends a blocked read at once: it answers what it has", async () => {
  const own = await startTestServer({ streamBlockMsMax: 60_000 });
  const waiting = own.call("GET", "/v1/streams/s/entries?after=$&blockMs=60000");
  const deadline = Date.now() + WAIT_MS;
  while ((own.server.store.streams.blockedReaders as number) === 0) {
    assert.ok(Date.now() < deadline, "the read blocks");
    await sleep(20);
  }
  const started = Date.now();
  await own.stop();
  const answer = await waiting;
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { entries: [], next: "0-0" });
  assert.ok(Date.now() - started < 5000, "the shutdown did not wait for the read's time");
});
