/**
 * The server on a disk that fills up: once the log fails, writes are refused until a restart,
 * so /healthz (liveness) says so with the failure's code and a probe restarts the server; the
 * refused writes log one line per class per interval, with no stack trace.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { FaultyFileSystem } from "../support/faulty-fs.js";
import { startTestServer } from "../support/server.js";

const REFUSED_WRITES = 20;

test("once a full disk failed the log, /healthz answers 503 with LOGBOOK_NO_SPACE, so a liveness probe restarts the server", async () => {
  const faulty = new FaultyFileSystem(new NodeFileSystem());
  const s = await startTestServer({ checkpointOnExit: false }, { fileSystem: faulty });
  try {
    assert.equal((await s.call("GET", "/healthz")).status, 200);
    assert.equal((await s.call("PUT", "/v1/kv/kept", { json: "acknowledged" })).status, 200);
    faulty.failAfter("write-enospc", 0);
    assert.equal((await s.call("PUT", "/v1/kv/lost", { json: "never acknowledged" })).status, 503);
    const health = await s.call("GET", "/healthz");
    assert.equal(health.status, 503);
    assert.equal(health.json.status, "failed");
    assert.equal(health.json.code, "LOGBOOK_NO_SPACE");
    assert.equal((await s.call("GET", "/v1/kv/kept")).json, "acknowledged", "reads go on");
  } finally {
    await s.stop();
  }
});

test("refused writes after a full disk log one line per class per interval, without a stack trace", async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const faulty = new FaultyFileSystem(new NodeFileSystem());
  const s = await startTestServer({ checkpointOnExit: false, accessLog: false }, { fileSystem: faulty, logger });
  try {
    faulty.failAfter("write-enospc", 0);
    for (let i = 0; i < REFUSED_WRITES; i++) {
      assert.equal((await s.call("PUT", `/v1/kv/k${i}`, { json: i })).status, 503);
    }
    const failureLines = lines.filter((line) => /the log failed/.test(String(line.msg)));
    assert.equal(failureLines.length, 1, "the failure itself is logged once, with its cause");
    const refusalLines = lines.filter((line) => (line.level as number) >= 40 && !failureLines.includes(line));
    assert.equal(refusalLines.length, 1, `one line for ${REFUSED_WRITES} refusals: ${JSON.stringify(refusalLines.slice(0, 3))}`);
    const [refusal] = refusalLines;
    assert.doesNotMatch(JSON.stringify(refusal), /stack|\\n\s+at /, "no stack trace");
    assert.equal(refusal?.code, "LOGBOOK_NO_SPACE");
  } finally {
    await s.stop();
  }
});
