/**
 * The recovery rules as data (docs/format.md, "Telling a torn tail from damage", in the same
 * order): what an open can find where the log is not whole, named by pure functions of facts
 * the scan gathered, and a table of the action each recovery mode takes for it. recovery.ts
 * carries the actions out; a log may be given another table (`LogOptions.recoveryRules`).
 */
import type { RecoveryMode } from "./options.js";
import type { LaterFrame } from "./segment-reader.js";

/**
 * What recovery can find. In a segment, at offset X where no valid frame for LSN E is, the
 * first class that fits is taken, in this order.
 */
export type FindingClass =
  /** A header that does not check or names another first LSN; in the newest segment, with records of its own after it. */
  | "damaged-header"
  /** The newest segment's header does not check or still names its spare's first LSN, and nothing of its own is in it. */
  | "unfinished-rotation"
  /** A header of another log. */
  | "foreign-segment"
  /** A header naming a previous segment that is not the previous file. */
  | "missing-segment"
  /** A segment that does not start at the LSN after its predecessor's last record. */
  | "lsn-gap"
  /** Not a frame of this segment, not one bit from valid, and no later frame of this segment. */
  | "end-of-data"
  /** One bit from valid, and every record of the frame lies below `requiredFromLsn`. */
  | "unneeded-damage"
  /** A later frame was written when E was already durable: acknowledged data was lost. */
  | "lost-write"
  /** In a sealed segment whose successor starts at E: the LSN chain proves nothing is missing. */
  | "sealed-garbage"
  /** The same, with later frames that prove nothing. */
  | "sealed-garbage-then-frames"
  /** In a sealed segment whose successor does not start at E. */
  | "sealed-damage"
  /** The same, with later frames that prove nothing. */
  | "sealed-damage-then-frames"
  /** One bit from valid, in the newest segment, no later frame. */
  | "flipped-bit"
  /** The same, with later frames that prove nothing. */
  | "flipped-bit-then-frames"
  /** A frame of the newest segment that does not check, no later frame: nothing from E on was durable. */
  | "torn-tail"
  /** In the newest segment, with later frames written while E was not yet durable. */
  | "torn-tail-then-frames";

/**
 * - `accept`: X is where the segment's data ends; nothing is reported or changed.
 * - `refuse`: LOGBOOK_CORRUPTION naming the file, the offset and the first LSN not recovered.
 * - `cut-tail`: report the torn tail; keep its bytes aside and zero them.
 * - `cut-here`: the log ends at X (at a gap: with the previous segment); report the lost range,
 *   keep the rest of the segment aside and clear it, set every later segment aside.
 * - `skip`: report the damage in `skipped`; go on at the later frame (at a gap: the next segment).
 * - `pass-over`: report the damage in `skipped` with `untilLsn`; go on past the damaged frame.
 * - `set-aside`: rename the segment `<segment>.broken`; the previous one is the newest again.
 * - `append-after-tail`: deliberately wrong, for the crash simulator's broken tables: report the
 *   torn tail, leave its bytes in place and append after them. No default rule uses it.
 * A read-only open takes the same decisions without writing.
 */
export type RecoveryAction =
  | "accept"
  | "refuse"
  | "cut-tail"
  | "cut-here"
  | "skip"
  | "pass-over"
  | "set-aside"
  | "append-after-tail";

/** One action per recovery mode, in the columns' order. */
export type ModeActions = readonly [
  strict: RecoveryAction,
  tolerateTail: RecoveryAction,
  pointInTime: RecoveryAction,
  salvage: RecoveryAction,
];

export type RecoveryRules = Readonly<Record<FindingClass, ModeActions>>;

const MODE_COLUMN: Readonly<Record<RecoveryMode, 0 | 1 | 2 | 3>> = {
  strict: 0,
  "tolerate-tail": 1,
  "point-in-time": 2,
  salvage: 3,
};

/** The action `rules` give to `found` under `mode`. */
export function actionFor(rules: RecoveryRules, found: FindingClass, mode: RecoveryMode): RecoveryAction {
  return rules[found][MODE_COLUMN[mode]];
}

// biome-ignore format: a table, one row per class, one column per mode
export const RECOVERY_RULES: RecoveryRules = {
  //                             strict       tolerate-tail  point-in-time  salvage
  "damaged-header":             ["refuse",    "refuse",      "refuse",      "refuse"],
  "unfinished-rotation":        ["refuse",    "set-aside",   "set-aside",   "set-aside"],
  "foreign-segment":            ["refuse",    "refuse",      "refuse",      "refuse"],
  "missing-segment":            ["refuse",    "refuse",      "refuse",      "refuse"],
  "lsn-gap":                    ["refuse",    "refuse",      "cut-here",    "skip"],
  "end-of-data":                ["accept",    "accept",      "accept",      "accept"],
  "unneeded-damage":            ["pass-over", "pass-over",   "pass-over",   "pass-over"],
  "lost-write":                 ["refuse",    "refuse",      "cut-here",    "skip"],
  "sealed-garbage":             ["accept",    "accept",      "accept",      "accept"],
  "sealed-garbage-then-frames": ["accept",    "accept",      "accept",      "skip"],
  "sealed-damage":              ["refuse",    "refuse",      "cut-here",    "refuse"],
  "sealed-damage-then-frames":  ["refuse",    "refuse",      "cut-here",    "skip"],
  "flipped-bit":                ["refuse",    "refuse",      "cut-here",    "refuse"],
  "flipped-bit-then-frames":    ["refuse",    "refuse",      "cut-here",    "skip"],
  "torn-tail":                  ["refuse",    "cut-tail",    "cut-tail",    "cut-tail"],
  "torn-tail-then-frames":      ["refuse",    "cut-tail",    "cut-tail",    "skip"],
};

/** What is known of a segment's header, newest segment first, then oldest to newest. */
export interface HeaderFacts {
  /** Why the header cannot be used (it does not check, or names another first LSN), if so. */
  damage: string | undefined;
  /** Checked before any segment is set aside: the newest segment may be an unfinished rotation. */
  newest: boolean;
  /** After a damaged newest header: a record or frame of its own lies somewhere in the file. */
  ownRecordsFollow?: boolean;
  /** The header's log id is the oldest segment's. */
  sameLog?: boolean;
  /** The header names the previous file's first LSN as its predecessor's. */
  chainedToPrevious?: boolean;
}

/** What the scan knows at offset X of a segment, where no valid frame for LSN E is. */
export interface FrameFacts {
  /** Zeros, or bytes that are not a frame of this segment (another incarnation's, or one for an LSN below E). */
  notAFrame: boolean;
  /** One flipped bit away from a valid frame: written whole and damaged since (bit-flip.ts). */
  oneBitFromValid: boolean;
  /** The first frame of this segment after X for an LSN of at least E. */
  later: LaterFrame | undefined;
  /** Some later frame was written when E was already durable (its `unsynced before` says so). */
  laterProvesDurable: boolean;
  /** One bit from valid with every record below `requiredFromLsn`: where the scan goes on after it. */
  unneededUntil: Pick<LaterFrame, "offset" | "firstLsn"> | undefined;
  /** X is in the newest segment: only there can a crash tear frames. */
  newest: boolean;
  /** The next segment starts at E. */
  chainedToNext: boolean;
}

/** The class of a header, or undefined when nothing is wrong with it. */
export function classifyHeader(facts: HeaderFacts): FindingClass | undefined {
  if (facts.damage !== undefined) {
    return facts.newest && facts.ownRecordsFollow === false ? "unfinished-rotation" : "damaged-header";
  }
  if (facts.sameLog === false) return "foreign-segment";
  if (facts.chainedToPrevious === false) return "missing-segment";
  return undefined;
}

/** The class of what the scan found at X, the first that fits in the order of FindingClass. */
export function classifyFinding(facts: FrameFacts): FindingClass {
  const followed = facts.later !== undefined;
  if (facts.notAFrame && !facts.oneBitFromValid && !followed) return "end-of-data";
  if (facts.unneededUntil !== undefined) return "unneeded-damage";
  if (followed && facts.laterProvesDurable) return "lost-write";
  if (!facts.newest && facts.chainedToNext) return followed ? "sealed-garbage-then-frames" : "sealed-garbage";
  if (!facts.newest) return followed ? "sealed-damage-then-frames" : "sealed-damage";
  if (facts.oneBitFromValid) return followed ? "flipped-bit-then-frames" : "flipped-bit";
  return followed ? "torn-tail-then-frames" : "torn-tail";
}
