// A child process that opens a log, says "ready", and holds it until killed.
import { Log } from "../../src/index.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: lock-holder DIR");
const log = await Log.open(dir, { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 });
await log.append(new TextEncoder().encode("held"));
process.stdout.write("ready\n");
setInterval(() => undefined, 1000);
