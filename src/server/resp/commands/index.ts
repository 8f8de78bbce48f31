/**
 * Every command the endpoint knows, by family (one file each).
 */
import type { CommandSpec } from "../command-spec.js";
import { bitCommands } from "./bits.js";
import { connectionCommands } from "./connection.js";
import { counterCommands } from "./counters.js";
import { expiryCommands } from "./expiry.js";
import { keyspaceCommands } from "./keyspace.js";
import { lcsCommands } from "./lcs.js";
import { objectCommands } from "./object.js";
import { scriptingCommands } from "./scripting.js";
import { serverCommands } from "./server.js";
import { streamCommands } from "./streams.js";
import { stringRangeCommands } from "./string-ranges.js";
import { stringCommands } from "./strings.js";
import { transactionCommands } from "./transactions.js";

export function allCommands(): CommandSpec[] {
  return [
    ...connectionCommands,
    ...transactionCommands,
    ...stringCommands,
    ...counterCommands,
    ...stringRangeCommands,
    ...bitCommands,
    ...lcsCommands,
    ...keyspaceCommands,
    ...expiryCommands,
    ...objectCommands,
    ...streamCommands,
    ...serverCommands,
    ...scriptingCommands,
  ];
}
