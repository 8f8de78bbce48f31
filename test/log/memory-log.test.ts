/** What the in-memory log adds to the WriteAheadLog contract (wal-conformance.ts): a simulated crash. */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { WalHooks } from "../../src/log/index.js";
import { forgetMemoryLogs, memoryLogAt, openMemoryLog } from "../../src/testing/memory-log.js";
import { bytes } from "../support/temp.js";

const DIR = "/memory/crash";

function hooks(): WalHooks & { acknowledged: number } {
  return {
    acknowledged: 0,
    onCommit(info) {
      this.acknowledged = info.lastLsn;
    },
    onFailure() {},
  };
}

afterEach(() => forgetMemoryLogs());

for (const keep of ["none", "all"] as const) {
  test(`a crash (keep ${keep}) tells nothing more, frees the directory, and the next open has the acknowledged${keep === "all" ? " and the rest" : " only"}`, async () => {
    const told = hooks();
    const log = await openMemoryLog(DIR, told);
    log.sequence([bytes("acknowledged")]);
    await log.waitFor(1, "durable");
    log.hold();
    log.sequence([bytes("a"), bytes("b")]);
    const waited = log.waitFor(3, "durable");
    assert.equal(memoryLogAt(DIR), log);
    log.crash(keep);
    await assert.rejects(waited, (e) => isLogbookError(e, "LOGBOOK_CLOSED"));
    assert.throws(
      () => log.sequence([bytes("late")]),
      (e) => isLogbookError(e, "LOGBOOK_CLOSED"),
    );
    assert.equal(told.acknowledged, 1);
    assert.equal(memoryLogAt(DIR), undefined);
    const reopened = await openMemoryLog(DIR, hooks());
    assert.equal(reopened.lastLsn, keep === "all" ? 3 : 1);
    assert.equal(reopened.sequence([bytes("next")]), reopened.lastLsn);
    await reopened.close();
  });
}
