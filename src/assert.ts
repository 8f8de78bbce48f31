/**
 * Invariant checks. A failed assertion is a bug in Logbook, never bad input: bad input is
 * rejected with a typed LogbookError before it gets this far.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`logbook invariant violated: ${message}`);
    this.name = "AssertionError";
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
