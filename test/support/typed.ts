import assert from "node:assert/strict";
import { LogbookError } from "../../src/index.js";

/** Fails unless `error` is a LogbookError: nothing untyped may reach a caller. */
export function assertTyped(error: unknown, where: string): asserts error is LogbookError {
  assert.ok(error instanceof LogbookError, `${where}: a ${(error as Error)?.name} escaped: ${(error as Error)?.message}`);
}
