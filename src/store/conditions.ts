/**
 * Conditions of writes (`ifVersion`, a batch's `ifVersions`), checked when the write is
 * sequenced against every write sequenced before it, durable or not (sequenced-writes.ts):
 * checking and sequencing in one synchronous step, of two racing writers on one version
 * exactly one wins. A conflict is reported with the applied version only, the one a read
 * returns: one that fails because of writes not yet applied is rejected once they are (or
 * with the log's failure), never before.
 *
 * A key whose expiry time has come counts as absent (version 0) in the applied state, as it is
 * to reads, though the sweeper has not deleted it yet. A queued write's expiry is not looked at.
 */
import { LogbookError } from "../errors.js";
import { type Key, keyToInternal } from "./encoding.js";
import type { SequencedWrites } from "./sequenced-writes.js";
import { isExpired, type SortedState, storedExpires, storedVersion } from "./state.js";

/** What `check` answers when the condition holds; any other answer is an LSN (LSNs start at 1). */
export const CONDITION_HOLDS = 0;

/** A condition that failed only because of writes not yet applied, up to `awaitLsn`. */
export interface PendingConflict {
  awaitLsn: number;
  internal: string;
  expected: number;
  key: Key;
}

export class Conditions {
  private readonly state: SortedState;
  private readonly sequenced: SequencedWrites;
  private readonly keyBytesMax: number;
  private readonly wallMs: () => number;

  constructor(state: SortedState, sequenced: SequencedWrites, keyBytesMax: number, wallMs: () => number) {
    this.state = state;
    this.sequenced = sequenced;
    this.keyBytesMax = keyBytesMax;
    this.wallMs = wallMs;
  }

  /** The version a condition is checked against: that of the latest write sequenced on `internal`, durable or not (0: absent). */
  currentVersion(internal: string): number {
    const sequenced = this.sequenced.versionOf(internal);
    return sequenced === undefined ? this.appliedVersion(internal) : sequenced;
  }

  /** The version of the latest write applied to `internal` (0: absent): acknowledged, what `get` answers. */
  appliedVersion(internal: string): number {
    const stored = this.state.get(internal);
    if (stored === undefined || (storedExpires(stored) && isExpired(stored, this.wallMs()))) return 0;
    return storedVersion(stored);
  }

  /**
   * Checks that `internal`'s version, counting every write sequenced so far, is `expected`, and
   * answers CONDITION_HOLDS if so. If it is not only because of writes not yet applied (the
   * applied version is `expected`), answers the LSN of the newest of them on the key: the
   * conflict may not be reported before that write settles, as a crash could still take it
   * back (and its LSN go to another write), and a retry reading the applied state would
   * conflict again at once. Otherwise throws LOGBOOK_CONFLICT with the applied version.
   */
  check(internal: string, expected: number, key: Key): number {
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `ifVersion must be a non-negative integer, got ${String(expected)}`);
    }
    if (this.currentVersion(internal) === expected) return CONDITION_HOLDS;
    const pendingLsn = this.sequenced.latestLsnOf(internal);
    if (pendingLsn === undefined || this.appliedVersion(internal) !== expected) throw this.conflict(internal, expected, key);
    return pendingLsn;
  }

  /**
   * Checks a batch's conditions (check): throws at the first that fails against the applied
   * state; else answers the first that fails only because of writes not yet applied, to be
   * reported once the newest of those on any of its keys is applied; else undefined.
   */
  checkAll(conditions: [Key, number][]): PendingConflict | undefined {
    return this.checkAllInternal(conditions.map(([key, expected]) => [keyToInternal(key, this.keyBytesMax), expected, key]));
  }

  /** The same for keys given in their internal form, each with the key to name in an error. */
  checkAllInternal(checked: readonly (readonly [string, number, Key])[]): PendingConflict | undefined {
    let conflict: PendingConflict | undefined;
    for (const [internal, expected, key] of checked) {
      const awaitLsn = this.check(internal, expected, key);
      if (awaitLsn === CONDITION_HOLDS) continue;
      if (conflict === undefined) conflict = { awaitLsn, internal, expected, key };
      else conflict.awaitLsn = Math.max(conflict.awaitLsn, awaitLsn);
    }
    return conflict;
  }

  /**
   * A conflict with writes sequenced but not yet applied: rejects once every write up to
   * `awaitLsn` is applied, with the version applied then (the one a read returns), or with the
   * log's failure if it fails first (then those writes are never acknowledged).
   */
  conflictOnceApplied(conflict: PendingConflict): Promise<number> {
    const { awaitLsn, internal, expected, key } = conflict;
    return new Promise<number>((_resolve, reject) => {
      this.sequenced.whenApplied(awaitLsn, () => reject(this.conflict(internal, expected, key)), reject);
    });
  }

  /** LOGBOOK_CONFLICT naming the applied version of the key: the one a read answers, never a write not yet acknowledged. */
  private conflict(internal: string, expected: number, key: Key): LogbookError {
    const applied = this.appliedVersion(internal);
    return new LogbookError("LOGBOOK_CONFLICT", `version of key is ${applied}, expected ${expected}`, {
      key: typeof key === "string" ? key : Buffer.from(key).toString("hex"),
      currentVersion: applied,
    });
  }
}
