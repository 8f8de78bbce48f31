/**
 * Placeholder: filled in by the server family.
 */
import type { CommandSpec } from "../command-spec.js";

export const serverCommands: CommandSpec[] = [];
