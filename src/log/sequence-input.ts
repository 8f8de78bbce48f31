/**
 * What `WriteAheadLog.sequence` accepts, checked the same way by every implementation: a
 * non-empty array of Uint8Array (one atomic group), or a PayloadSource with a non-negative
 * integer `payloadBytes` and a `writePayload` method. Anything else is a TypeError, thrown
 * before anything is sequenced.
 */
import type { PayloadSource } from "./contract.js";

export function checkSequenceInput(records: readonly Uint8Array[] | PayloadSource): void {
  if (Array.isArray(records)) {
    if (records.length === 0) throw new TypeError("sequence takes a non-empty array of Uint8Array");
    for (const payload of records) {
      if (!(payload instanceof Uint8Array)) throw new TypeError("a log payload must be a Uint8Array");
    }
    return;
  }
  const source = records as PayloadSource;
  if (!Number.isSafeInteger(source?.payloadBytes) || source.payloadBytes < 0) {
    throw new TypeError("a payload source's payloadBytes must be a non-negative integer");
  }
  if (typeof source.writePayload !== "function") throw new TypeError("a payload source must have writePayload()");
}
