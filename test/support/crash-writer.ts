/**
 * The child of the SIGKILL test: appends from many concurrent writers until killed and
 * prints one line per acknowledged append: `ack <lsn> <sha256 of payload>` (a batch prints
 * one line per record). Stdout is a pipe, which Node writes synchronously on Linux, so a
 * printed line was acknowledged before anything after it happened.
 */
import { createHash } from "node:crypto";
import { Log } from "../../src/index.js";

const [dir, roundText, writersText] = process.argv.slice(2);
if (dir === undefined || roundText === undefined) throw new Error("usage: crash-writer DIR ROUND [WRITERS]");
const writers = Number(writersText ?? 16);
const log = await Log.open(dir, { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 });
const digest = (payload: Uint8Array) => createHash("sha256").update(payload).digest("hex");
const encoder = new TextEncoder();

function payloadFor(writer: number, seq: number, part: string): Uint8Array {
  const head = `${roundText}:${writer}:${seq}:${part}:`;
  return encoder.encode(head.padEnd(40 + ((writer * 131 + seq * 17) % 900), "~"));
}

process.stdout.write(`ready ${log.lastLsn}\n`);
async function writer(id: number): Promise<void> {
  for (let seq = 0; ; seq++) {
    if (seq % 7 === 3) {
      const payloads = [0, 1, 2].map((part) => payloadFor(id, seq, `b${part}/3`));
      const lsns = await log.appendBatch(payloads);
      process.stdout.write(lsns.map((lsn, i) => `ack ${lsn} ${digest(payloads[i] as Uint8Array)}\n`).join(""));
    } else {
      const payload = payloadFor(id, seq, "s");
      const lsn = await log.append(payload);
      process.stdout.write(`ack ${lsn} ${digest(payload)}\n`);
    }
  }
}
await Promise.all(Array.from({ length: writers }, (_, id) => writer(id)));
