/**
 * The WriteAheadLog contract (src/log/contract.ts) as tests, for every implementation: the
 * local log (wal-conformance-local.test.ts), the in-memory one (wal-conformance-memory.test.ts),
 * and any replicated one. An implementation passes a factory that opens its log in a directory
 * and lets the suite hold and fail its durability step (the fdatasync, for the local log).
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, type LogbookError } from "../../src/errors.js";
import type { CommitInfo, PayloadSource, WalHooks, WalOpenOptions, WriteAheadLog } from "../../src/log/index.js";
import { bytes, tempDir, text } from "../support/temp.js";

export interface WalUnderTest {
  readonly wal: WriteAheadLog;
  /** From now on nothing sequenced becomes durable (so nothing is acknowledged) until release. */
  hold(): void;
  /** Lets durability go on; with `fail`, the held step fails as an fdatasync EIO would. */
  release(fail?: boolean): void;
  /** How many durability steps (fdatasyncs of the log) have returned successfully so far. */
  readonly durableSteps: number;
}

export interface WalFactory {
  name: string;
  /** The largest payload of a group of one; one byte more is refused with LOGBOOK_RECORD_TOO_LARGE. */
  payloadBytesMax: number;
  /** Opens (or creates) the log in `directory`; small enough units that a few hundred records fill several. */
  open(directory: string, hooks: WalHooks, options?: Partial<WalOpenOptions>): Promise<WalUnderTest>;
  /** Forgets what the implementation keeps of `directory` outside it, if anything. */
  forget?(directory: string): void;
}

/** Hooks that record what they are told, and note any breach of their own contract. */
class Recorder implements WalHooks {
  readonly commits: CommitInfo[] = [];
  readonly failures: LogbookError[] = [];
  readonly breaches: string[] = [];
  acknowledged: number;
  /** Set by a test: what the log's durable steps were when each commit arrived. */
  stepsAtCommit: number[] = [];
  steps: () => number = () => 0;

  constructor(acknowledged = 0) {
    this.acknowledged = acknowledged;
  }

  onCommit(info: CommitInfo): void {
    if (info.firstLsn !== this.acknowledged + 1) this.breaches.push(`commit from ${info.firstLsn} after ${this.acknowledged}`);
    if (info.lastLsn < info.firstLsn) this.breaches.push(`empty commit ${info.firstLsn}..${info.lastLsn}`);
    if (this.failures.length > 0) this.breaches.push(`commit up to ${info.lastLsn} after the failure`);
    this.acknowledged = info.lastLsn;
    this.commits.push(info);
    this.stepsAtCommit.push(this.steps());
  }

  onFailure(error: LogbookError): void {
    if (this.failures.length > 0) this.breaches.push("a second onFailure");
    this.failures.push(error);
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

function source(body: string): PayloadSource {
  return {
    payloadBytes: body.length,
    writePayload(target, offset) {
      for (let i = 0; i < body.length; i++) target[offset + i] = body.charCodeAt(i);
    },
  };
}

async function visitAll(wal: WriteAheadLog, from?: number): Promise<[number, string][]> {
  const seen: [number, string][] = [];
  await wal.visitRecords(from === undefined ? {} : { from }, (lsn, memory, start, end) => {
    seen.push([lsn, text(memory.subarray(start, end))]);
  });
  return seen;
}

const withCode = (code: string) => (error: unknown) => isLogbookError(error) && error.code === code;

export function walConformance(factory: WalFactory): void {
  describe(`WriteAheadLog conformance: ${factory.name}`, () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    const opened: WalUnderTest[] = [];
    const open = async (hooks: WalHooks, options?: Partial<WalOpenOptions>) => {
      const under = await factory.open(dir, hooks, options);
      opened.push(under);
      return under;
    };
    beforeEach(async () => {
      ({ path: dir, cleanup } = await tempDir());
    });
    afterEach(async () => {
      for (const under of opened.splice(0)) {
        under.release();
        await under.wal.close().catch(() => undefined);
      }
      factory.forget?.(dir);
      await cleanup();
    });

    test("sequence hands out consecutive LSNs at once, in call order, one per record of a group", async () => {
      const hooks = new Recorder();
      const { wal } = await open(hooks);
      assert.equal(wal.lastLsn, 0);
      assert.equal(wal.sequence([bytes("a")]), 1);
      assert.equal(wal.sequence([bytes("b"), bytes("c"), bytes("d")]), 2);
      assert.equal(wal.lastLsn, 4, "the LSNs are taken when sequence returns");
      assert.equal(wal.sequence(source("e")), 5);
      assert.equal(hooks.commits.length, 0, "onCommit is never called from inside sequence");
      await until("acknowledgement", () => hooks.acknowledged === 5);
      assert.deepEqual(hooks.breaches, []);
      assert.equal(wal.committedLsn, 5);
      assert.ok(wal.durableLsn <= wal.committedLsn);
      assert.deepEqual(await visitAll(wal), [
        [1, "a"],
        [2, "b"],
        [3, "c"],
        [4, "d"],
        [5, "e"],
      ]);
    });

    test("onCommit tells of every record once, in LSN order, without gap, before waitFor resolves past it", async () => {
      const hooks = new Recorder();
      const { wal } = await open(hooks);
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 1 + (round % 7); i++)
          wal.sequence(i % 2 === 0 ? [bytes(`r${round}.${i}`)] : source(`s${round}.${i}`));
        if (round % 3 === 0) await turn();
      }
      const last = wal.lastLsn;
      await wal.waitFor(last, "durable");
      assert.equal(hooks.acknowledged, last);
      assert.deepEqual(hooks.breaches, []);
      assert.equal(
        hooks.commits.reduce((sum, info) => sum + info.records, 0),
        last,
      );
    });

    test("a write is acknowledged only after a durability step that returned after it was sequenced", async () => {
      const hooks = new Recorder();
      const under = await open(hooks);
      const { wal } = under;
      hooks.steps = () => under.durableSteps;
      wal.sequence([bytes("before")]);
      await until("the first acknowledgement", () => hooks.acknowledged === 1);
      under.hold();
      const lsn = wal.sequence([bytes("held")]);
      let durable = false;
      const waited = wal.waitFor(lsn, "durable").then(() => {
        durable = true;
      });
      for (let i = 0; i < 20; i++) await turn();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(hooks.acknowledged, 1, "nothing acknowledged while durability is held");
      assert.ok(wal.committedLsn < lsn);
      assert.equal(durable, false);
      const stepsBefore = under.durableSteps;
      under.release();
      await waited;
      assert.equal(hooks.acknowledged, lsn);
      assert.ok((hooks.stepsAtCommit.at(-1) ?? 0) > stepsBefore, "the commit came after a durability step returned");
      assert.deepEqual(hooks.breaches, []);
    });

    test("a group is atomic: acknowledged in one commit, and after a failure a reopen holds whole groups only", async () => {
      const hooks = new Recorder();
      const under = await open(hooks);
      const { wal } = under;
      const groupEnds = new Set<number>([0]);
      for (let i = 0; i < 30; i++) {
        const first = wal.sequence([bytes(`g${i}a`), bytes(`g${i}b`), bytes(`g${i}c`)]);
        groupEnds.add(first + 2);
      }
      await until("acknowledgement", () => hooks.acknowledged === wal.lastLsn);
      for (const info of hooks.commits)
        assert.ok(groupEnds.has(info.lastLsn), `commit ${info.firstLsn}..${info.lastLsn} splits a group`);
      under.hold();
      for (let i = 30; i < 40; i++) groupEnds.add(wal.sequence([bytes(`g${i}a`), bytes(`g${i}b`), bytes(`g${i}c`)]) + 2);
      await turn();
      under.release(true);
      await until("the failure", () => hooks.failures.length === 1);
      const acknowledged = hooks.acknowledged;
      await wal.close();
      const reopened = await open(new Recorder());
      assert.ok(reopened.wal.lastLsn >= acknowledged, "every acknowledged record is there");
      assert.ok(groupEnds.has(reopened.wal.lastLsn), `the log ends at ${reopened.wal.lastLsn}, inside a group`);
      const records = await visitAll(reopened.wal);
      assert.equal(records.length, reopened.wal.lastLsn);
    });

    test("a failed durability step: onFailure once, nothing unacknowledged ever acknowledged, later calls refused typed", async () => {
      const hooks = new Recorder();
      const under = await open(hooks);
      const { wal } = under;
      const before = wal.sequence([bytes("acknowledged")]);
      await until("acknowledgement", () => hooks.acknowledged === before);
      under.hold();
      const lost = [wal.sequence([bytes("lost 1")]), wal.sequence(source("lost 2"))];
      const waits = lost.map((lsn) => wal.waitFor(lsn, "durable"));
      under.release(true);
      for (const waited of waits) await assert.rejects(waited, (e) => isLogbookError(e));
      await until("the failure", () => hooks.failures.length === 1);
      for (let i = 0; i < 20; i++) await turn();
      assert.equal(hooks.acknowledged, before, "nothing after the failure was acknowledged");
      assert.deepEqual(hooks.breaches, []);
      const failure = hooks.failures[0] as LogbookError;
      assert.ok(isLogbookError(failure));
      assert.equal(wal.failure, failure);
      assert.throws(
        () => wal.sequence([bytes("after")]),
        (e) => isLogbookError(e) && e.code === failure.code,
      );
      await assert.rejects(wal.waitFor(before, "durable"), (e) => isLogbookError(e) && e.code === failure.code);
      assert.deepEqual(await visitAll(wal), [[1, "acknowledged"]], "reads return what was acknowledged");
      await wal.close();
    });

    test("truncateBefore frees only records below its LSN; reading below firstLsn is LOGBOOK_TRUNCATED", async () => {
      const hooks = new Recorder();
      const { wal } = await open(hooks);
      const filler = "x".repeat(400);
      for (let i = 0; i < 300; i++) wal.sequence([bytes(`${i}:${filler}`)]);
      await wal.waitFor(wal.lastLsn, "durable");
      await assert.rejects(wal.truncateBefore(wal.durableLsn + 2), withCode("LOGBOOK_INVALID_LSN"));
      await assert.rejects(wal.truncateBefore(-1), withCode("LOGBOOK_INVALID_LSN"));
      await wal.truncateBefore(120);
      assert.ok(wal.firstLsn <= 120, `firstLsn ${wal.firstLsn}`);
      const kept = await visitAll(wal);
      assert.equal(kept[0]?.[0], wal.firstLsn);
      assert.equal(kept.length, 300 - wal.firstLsn + 1);
      await wal.truncateBefore(wal.durableLsn);
      assert.ok(wal.firstLsn > 1, "truncating almost everything frees something");
      assert.ok(wal.firstLsn <= wal.durableLsn);
      await assert.rejects(visitAll(wal, 1), withCode("LOGBOOK_TRUNCATED"));
      assert.equal(wal.sequence([bytes("next")]), 301, "LSNs are never reused");
    });

    test("visitRecords and follow replay from any LSN exactly the acknowledged records from it", async () => {
      const hooks = new Recorder();
      const { wal } = await open(hooks);
      for (let i = 1; i <= 50; i++) wal.sequence(i % 5 === 0 ? [bytes(`${i}`), bytes(`${i}+`)] : [bytes(`${i}`)]);
      await wal.waitFor(wal.lastLsn, "durable");
      const all = await visitAll(wal);
      assert.equal(all.length, wal.lastLsn);
      for (const from of [0, 1, 2, 17, wal.lastLsn - 1, wal.lastLsn, wal.lastLsn + 1]) {
        const expected = all.filter(([lsn]) => lsn >= Math.max(from, 1));
        assert.deepEqual(await visitAll(wal, from), expected, `visit from ${from}`);
        const controller = new AbortController();
        const followed: [number, string][] = [];
        const reading = (async () => {
          for await (const batch of wal.follow({ from, signal: controller.signal })) {
            for (const record of batch) followed.push([record.lsn, text(record.payload)]);
            if (followed.length === expected.length) controller.abort();
          }
        })();
        if (expected.length === 0) controller.abort();
        await assert.rejects(reading, withCode("LOGBOOK_ABORTED"));
        assert.deepEqual(followed, expected, `follow from ${from}`);
      }
      for (const from of [-1, 1.5]) await assert.rejects(visitAll(wal, from), withCode("LOGBOOK_INVALID_LSN"));
    });

    test("follow returns each new commit as it is acknowledged, and ends when the log closes", async () => {
      const { wal } = await open(new Recorder());
      wal.sequence([bytes("one")]);
      const followed: string[] = [];
      const reading = (async () => {
        for await (const batch of wal.follow({ from: 1 })) for (const record of batch) followed.push(text(record.payload));
      })();
      await until("the first record", () => followed.length === 1);
      wal.sequence([bytes("two"), bytes("three")]);
      await until("the group", () => followed.length === 3);
      await wal.close();
      await reading;
      assert.deepEqual(followed, ["one", "two", "three"]);
    });

    test("a log closed and opened again holds every acknowledged record and continues its LSNs", async () => {
      const first = await open(new Recorder());
      for (let i = 1; i <= 10; i++) first.wal.sequence([bytes(`r${i}`)]);
      await first.wal.close();
      await first.wal.close();
      const hooks = new Recorder(10);
      const { wal } = await open(hooks);
      assert.equal(wal.lastLsn, 10);
      assert.equal(wal.committedLsn, 10);
      assert.equal((await visitAll(wal)).length, 10);
      assert.equal(wal.sequence([bytes("r11")]), 11);
      await until("acknowledgement", () => hooks.acknowledged === 11);
      assert.deepEqual(hooks.breaches, []);
    });

    test("closed: sequence and new waits are refused with LOGBOOK_CLOSED; waits made before close resolve", async () => {
      const { wal } = await open(new Recorder());
      const lsn = wal.sequence([bytes("before close")]);
      const waited = wal.waitFor(lsn, "durable");
      const closed = wal.close();
      assert.throws(() => wal.sequence([bytes("late")]), withCode("LOGBOOK_CLOSED"));
      await Promise.all([waited, closed]);
      await assert.rejects(wal.waitFor(lsn, "durable"), withCode("LOGBOOK_CLOSED"));
      await assert.rejects(wal.truncateBefore(1), withCode("LOGBOOK_CLOSED"));
    });

    test("read-only: reads work, writes are refused with LOGBOOK_READ_ONLY; a missing log is LOGBOOK_NOT_FOUND", async () => {
      await assert.rejects(factory.open(dir, new Recorder(), { readOnly: true, create: false }), withCode("LOGBOOK_NOT_FOUND"));
      const writer = await open(new Recorder());
      writer.wal.sequence([bytes("a"), bytes("b")]);
      await writer.wal.close();
      const { wal } = await open(new Recorder(2), { readOnly: true, create: false });
      assert.equal(wal.isReadOnly, true);
      assert.deepEqual(await visitAll(wal), [
        [1, "a"],
        [2, "b"],
      ]);
      await wal.waitFor(2, "durable");
      await assert.rejects(wal.waitFor(3, "durable"), withCode("LOGBOOK_READ_ONLY"));
      assert.throws(() => wal.sequence([bytes("c")]), withCode("LOGBOOK_READ_ONLY"));
      await assert.rejects(wal.truncateBefore(1), withCode("LOGBOOK_READ_ONLY"));
    });

    test("a second writer on one log is refused with LOGBOOK_LOCKED", async () => {
      await open(new Recorder());
      await assert.rejects(factory.open(dir, new Recorder()), withCode("LOGBOOK_LOCKED"));
    });

    test("bad input gets typed errors and sequences nothing", async () => {
      const hooks = new Recorder();
      const { wal } = await open(hooks);
      assert.throws(() => wal.sequence([]), TypeError);
      assert.throws(() => wal.sequence(["x" as never]), TypeError);
      assert.throws(() => wal.sequence(undefined as never), TypeError);
      assert.throws(() => wal.sequence({ payloadBytes: -1, writePayload() {} }), TypeError);
      assert.throws(() => wal.sequence({ payloadBytes: 1.5, writePayload() {} }), TypeError);
      assert.throws(() => wal.sequence({ payloadBytes: 1 } as never), TypeError);
      assert.throws(() => wal.sequence([new Uint8Array(factory.payloadBytesMax + 1)]), withCode("LOGBOOK_RECORD_TOO_LARGE"));
      assert.throws(
        () => wal.sequence({ payloadBytes: factory.payloadBytesMax + 1, writePayload() {} }),
        withCode("LOGBOOK_RECORD_TOO_LARGE"),
      );
      const throwing: PayloadSource = {
        payloadBytes: 4,
        writePayload() {
          throw new Error("no bytes today");
        },
      };
      assert.throws(() => wal.sequence(throwing), /no bytes today/);
      assert.equal(wal.lastLsn, 0, "nothing was sequenced");
      assert.equal(wal.sequence([new Uint8Array(factory.payloadBytesMax)]), 1, "the largest payload is taken");
      assert.equal(wal.sequence(source("after")), 2);
      await wal.waitFor(2, "durable");
      assert.equal((await visitAll(wal, 2))[0]?.[1], "after");
      await assert.rejects(wal.waitFor(3, "durable"), withCode("LOGBOOK_INVALID_LSN"));
      await assert.rejects(wal.waitFor(1.5, "durable"), withCode("LOGBOOK_INVALID_LSN"));
      await assert.rejects(wal.waitFor("1" as never, "durable"), TypeError);
      await assert.rejects(wal.waitFor(1, "soon" as never), TypeError);
      assert.deepEqual(hooks.breaches, []);
    });
  });
}
