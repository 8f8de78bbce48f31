import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLogbookError } from "../../src/errors.js";
import { decodeStreamCommand, encodeStreamCommand } from "../../src/streams/command-codec.js";
import type { StreamCommand } from "../../src/streams/stream-command.js";
import { idFromParts } from "../../src/streams/stream-id.js";

const id = fc
  .tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }))
  .map(([ms, seq]) => idFromParts(ms, seq));
const binary = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("latin1"));
const num = fc.integer({ min: 0, max: 2 ** 40 });
const trim = fc.record({
  strategy: fc.constantFrom("maxlen" as const, "minid" as const, "maxbytes" as const),
  threshold: num,
  minId: id,
  approximate: fc.boolean(),
  limit: num,
});

const command: fc.Arbitrary<StreamCommand> = fc.oneof(
  fc.record(
    {
      kind: fc.constant("add" as const),
      id: fc.oneof(
        fc.constant({ kind: "auto" as const }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((ms) => ({ kind: "ms" as const, ms })),
        id.map((i) => ({ kind: "explicit" as const, id: i })),
      ),
      fields: fc.array(binary, { maxLength: 6 }),
      noMkStream: fc.boolean(),
      trim,
      producerId: binary,
      nowMs: num,
    },
    { requiredKeys: ["kind", "id", "fields", "noMkStream", "nowMs"] },
  ),
  fc.record({ kind: fc.constant("delete" as const), ids: fc.array(id, { maxLength: 5 }) }),
  fc.record({ kind: fc.constant("trim" as const), trim }),
  fc.record({ kind: fc.constant("setId" as const), id, entriesAdded: num, maxDeletedId: id }, { requiredKeys: ["kind", "id"] }),
  fc.record(
    {
      kind: fc.constant("createGroup" as const),
      group: binary,
      start: fc.oneof(fc.constant("$" as const), id),
      mkStream: fc.boolean(),
      entriesRead: num,
      maxDeliveries: num,
      deadLetterKey: binary,
    },
    { requiredKeys: ["kind", "group", "start", "mkStream"] },
  ),
  fc.record(
    {
      kind: fc.constant("readGroup" as const),
      group: binary,
      consumer: binary,
      from: id,
      count: num,
      noAck: fc.boolean(),
      nowMs: num,
      bodies: fc.array(binary, { maxLength: 4 }),
    },
    { requiredKeys: ["kind", "group", "consumer", "count", "noAck", "nowMs", "bodies"] },
  ),
  fc.record(
    {
      kind: fc.constant("claim" as const),
      group: binary,
      consumer: binary,
      minIdleMs: num,
      ids: fc.array(id, { maxLength: 4 }),
      idleMs: num,
      timeMs: num,
      retryCount: num,
      force: fc.boolean(),
      justId: fc.boolean(),
      lastId: id,
      nowMs: num,
      bodies: fc.array(binary, { maxLength: 4 }),
    },
    { requiredKeys: ["kind", "group", "consumer", "minIdleMs", "ids", "force", "justId", "nowMs", "bodies"] },
  ),
);

test("every stream command decodes to what was encoded", () => {
  fc.assert(
    fc.property(command, (c) => {
      const bytes = encodeStreamCommand(c);
      assert.deepEqual(decodeStreamCommand(Buffer.from(bytes), 0, bytes.length, 7), structuredClone(c));
    }),
    { numRuns: 500 },
  );
});

test("a truncated or padded command is LOGBOOK_CORRUPTION, never a wrong command", () => {
  fc.assert(
    fc.property(command, fc.nat(), fc.boolean(), (c, cut, pad) => {
      const bytes = Buffer.from(encodeStreamCommand(c));
      const damaged = pad ? Buffer.concat([bytes, Buffer.from([0])]) : bytes.subarray(0, cut % bytes.length);
      assert.throws(
        () => decodeStreamCommand(damaged, 0, damaged.length, 9),
        (e: unknown) => isLogbookError(e, "LOGBOOK_CORRUPTION") && e.lsn === 9,
      );
    }),
    { numRuns: 300 },
  );
});

test("a command larger than the encoder's first buffer round-trips (fields written after it grows)", () => {
  const fields = Array.from({ length: 40 }, (_, i) => `${"f".repeat(i)}\u00ff${i}`);
  const command: StreamCommand = { kind: "add", id: { kind: "auto" }, fields, noMkStream: false, nowMs: 1 };
  const bytes = encodeStreamCommand(command);
  assert.ok(bytes.length > 1024);
  assert.deepEqual(decodeStreamCommand(Buffer.from(bytes), 0, bytes.length, 1), command);
});
