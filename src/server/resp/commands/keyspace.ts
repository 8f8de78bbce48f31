/**
 * Placeholder: filled in by the keyspace family.
 */
import type { CommandSpec } from "../command-spec.js";

export const keyspaceCommands: CommandSpec[] = [];
