/**
 * What an open's recovery reports (`log.recovery`): what it found, cut, skipped, set aside or
 * lost. The shapes are public (src/index.ts).
 */
import type { RecoveryMode } from "./options.js";

export interface TornTailReport {
  file: string;
  offset: number;
  bytes: number;
  reason: string;
  /** Where the original bytes were kept before the tail was cleared; absent when nothing was changed. */
  keptAs?: string;
}

export interface DamageReport {
  file: string;
  offset: number;
  reason: string;
  /** The first LSN that was not recovered. */
  fromLsn: number;
  /** Damage passed over because no record in it is needed (`requiredFromLsn`): the first LSN after it. */
  untilLsn?: number;
}

export interface RecoveryReport {
  mode: RecoveryMode;
  /** True when this open created a new, empty log. */
  created: boolean;
  segments: number;
  firstLsn: number;
  /** LSN of the last record recovered; firstLsn - 1 when the log is empty. */
  lastLsn: number;
  scannedBytes: number;
  durationMs: number;
  tornTail?: TornTailReport;
  /** point-in-time: where the log was cut and what was lost from there on. */
  lostRange?: DamageReport;
  /** salvage, and damage below `requiredFromLsn` in any mode: the damaged regions reading skips. */
  skipped: DamageReport[];
  /** Whole files set aside as `*.broken` (an unfinished rotation, segments after a point-in-time cut). */
  setAside: string[];
}

export function emptyRecoveryReport(mode: RecoveryMode): RecoveryReport {
  return {
    mode,
    created: false,
    segments: 0,
    firstLsn: 1,
    lastLsn: 0,
    scannedBytes: 0,
    durationMs: 0,
    skipped: [],
    setAside: [],
  };
}
