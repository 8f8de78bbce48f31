#!/usr/bin/env node
/**
 * The `logbook` command's entry: V8's settings first (see v8-settings.ts), then the program,
 * imported only after them so that no module of it has run under the defaults.
 */
import { applyV8Settings } from "./v8-settings.js";

applyV8Settings(process.execArgv);
await import("./program.js");
