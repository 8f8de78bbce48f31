// A child process that opens a log for writing, says "ready", and holds it until killed, or,
// when the open is refused with a LogbookError, says "refused <code>" and exits with status 3.
// usage: lock-holder DIR [--exit-when-idle]
import { Log, LogbookError } from "../../src/index.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: lock-holder DIR");
let log: Log;
try {
  log = await Log.open(dir, { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 });
} catch (error) {
  if (!(error instanceof LogbookError)) throw error;
  process.stdout.write(`refused ${error.code}\n`);
  process.exit(3);
}
await log.append(new TextEncoder().encode("held"));
process.stdout.write("ready\n");
// With --exit-when-idle the process has nothing left to do and must exit, lock and all.
if (process.argv[3] !== "--exit-when-idle") setInterval(() => undefined, 1000);
