/**
 * A list page is bounded in bytes as well as items: it ends early, with a cursor, once the
 * next entry would take it past `listBytesMax`, and it always holds at least one entry, so
 * big values are listed in pages rather than built into one body that may not fit in memory.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "../support/server.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const KEYS = 40;
const VALUE_CHARS = 256 * KIB;

describe("list pages in bytes", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ bodyBytesMax: 2 * MIB, listBytesMax: MIB });
    for (let i = 0; i < KEYS; i++) {
      const reply = await s.call("PUT", `/v1/kv/big%2F${String(i).padStart(2, "0")}`, {
        json: String.fromCharCode(97 + (i % 26)).repeat(VALUE_CHARS - 2),
      });
      assert.equal(reply.status, 200, reply.text);
    }
  });
  after(() => s.stop());

  for (const reverse of [false, true]) {
    test(`pages of 256 KiB values under a 1 MiB ceiling stay under it (+ one entry) and list every key once${reverse ? ", in reverse" : ""}`, async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        assert.ok(pages++ < KEYS + 2, "the listing ends");
        const query: string = `prefix=big/&limit=1000&reverse=${reverse}${cursor === null ? "" : `&cursor=${cursor}`}`;
        const reply = await s.call("GET", `/v1/kv?${query}`);
        assert.equal(reply.status, 200, reply.text.slice(0, 200));
        const items = reply.json.items as { key: string; value: string }[];
        assert.ok(items.length >= 1, "a page holds at least one entry");
        const itemBytes = items.map((item) => Buffer.byteLength(JSON.stringify(item)));
        const withoutLast = itemBytes.slice(0, -1).reduce((sum, n) => sum + n, 0);
        assert.ok(withoutLast <= MIB, `a page passes the ceiling only by its last entry (${withoutLast} bytes before it)`);
        assert.ok(Buffer.byteLength(reply.text) <= MIB + (itemBytes.at(-1) ?? 0), `page of ${reply.text.length} bytes`);
        for (const item of items) {
          assert.equal(item.value.length, VALUE_CHARS - 2);
          seen.push(item.key);
        }
        cursor = reply.json.cursor;
      } while (cursor !== null);
      const all = Array.from({ length: KEYS }, (_, i) => `big/${String(i).padStart(2, "0")}`);
      assert.deepEqual(seen, reverse ? [...all].reverse() : all);
      assert.ok(pages >= KEYS / 4, `${pages} pages for ${KEYS} values of 256 KiB`);
    });
  }

  test("an entry larger than the ceiling is listed alone on its page", async () => {
    const tight = await startTestServer({ bodyBytesMax: 2 * MIB, listBytesMax: 1000 });
    try {
      for (const key of ["a", "b"]) await tight.call("PUT", `/v1/kv/${key}`, { json: "x".repeat(5000) });
      const first = await tight.call("GET", "/v1/kv");
      assert.deepEqual(
        first.json.items.map((item: { key: string }) => item.key),
        ["a"],
      );
      const second = await tight.call("GET", `/v1/kv?cursor=${first.json.cursor}`);
      assert.deepEqual(
        second.json.items.map((item: { key: string }) => item.key),
        ["b"],
      );
      assert.equal(second.json.cursor, null);
    } finally {
      await tight.stop();
    }
  });
});
