/**
 * RefusalLog: one line per class of refused write per interval, each carrying how many
 * refusals of its class it stands for, and no stack trace.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { RefusalLog } from "../../../src/server/telemetry/refusal-log.js";

const INTERVAL_MS = 1000;

test("refusals log one line per class per interval, counting the refusals since the class's previous line", () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  let nowMs = 0;
  const log = new RefusalLog(logger, INTERVAL_MS, () => nowMs);
  for (let i = 0; i < 50; i++) log.refused("LOGBOOK_NO_SPACE", "/v1/kv/*", "the disk is full");
  log.refused("LOGBOOK_LOG_FAILED", "/v1/kv:batch", "fsync failed");
  assert.deepEqual(
    lines.map((line) => [line.code, line.refused]),
    [
      ["LOGBOOK_NO_SPACE", 1],
      ["LOGBOOK_LOG_FAILED", 1],
    ],
    "the first refusal of each class is logged at once",
  );
  nowMs = INTERVAL_MS - 1;
  log.refused("LOGBOOK_NO_SPACE", "/v1/kv/*", "the disk is full");
  assert.equal(lines.length, 2, "not again within the interval");
  nowMs = INTERVAL_MS;
  log.refused("LOGBOOK_NO_SPACE", "/v1/kv/*", "the disk is full");
  assert.equal(lines.length, 3);
  assert.equal(lines[2]?.refused, 51, "the line counts the refusals it stands for");
  assert.equal(lines[2]?.msg, "write refused: the disk is full");
  assert.equal(lines[2]?.level, 40);
  assert.ok(
    lines.every((line) => !("err" in line) && !JSON.stringify(line).includes("stack")),
    "no error object, no stack",
  );
});
