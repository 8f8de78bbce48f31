/**
 * Every command the endpoint knows, by family (one file each).
 */
import type { CommandSpec } from "../command-spec.js";
import { connectionCommands } from "./connection.js";
import { keyspaceCommands } from "./keyspace.js";
import { serverCommands } from "./server.js";
import { streamCommands } from "./streams.js";
import { stringCommands } from "./strings.js";
import { transactionCommands } from "./transactions.js";

export function allCommands(): CommandSpec[] {
  return [
    ...connectionCommands,
    ...transactionCommands,
    ...stringCommands,
    ...keyspaceCommands,
    ...streamCommands,
    ...serverCommands,
  ];
}
