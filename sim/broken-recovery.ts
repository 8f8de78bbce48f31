/**
 * Deliberately broken recovery rules, passed to the log as `LogOptions.recoveryRules`: the crash
 * simulation must catch each of them (docs/guarantees.md, broken variants).
 */
import {
  type FindingClass,
  type ModeActions,
  RECOVERY_RULES,
  type RecoveryAction,
  type RecoveryRules,
} from "../src/log/recovery-rules.js";

/** `rules` with every `from` action, in every class and mode, replaced by `to`. */
function replaceAction(rules: RecoveryRules, from: RecoveryAction, to: RecoveryAction): RecoveryRules {
  const swap = (action: RecoveryAction) => (action === from ? to : action);
  const replaced = {} as Record<FindingClass, ModeActions>;
  for (const [found, [strict, tolerateTail, pointInTime, salvage]] of Object.entries(rules) as [FindingClass, ModeActions][]) {
    replaced[found] = [swap(strict), swap(tolerateTail), swap(pointInTime), swap(salvage)];
  }
  return replaced;
}

/**
 * `keep-torn-tail`: the default rules, except that wherever they cut a torn tail, recovery
 * leaves the torn bytes in place and appends after them.
 */
export const keepTornTailRules: RecoveryRules = replaceAction(RECOVERY_RULES, "cut-tail", "append-after-tail");
