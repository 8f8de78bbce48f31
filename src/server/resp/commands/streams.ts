/**
 * Placeholder: filled in by the streams family.
 */
import type { CommandSpec } from "../command-spec.js";

export const streamCommands: CommandSpec[] = [];
