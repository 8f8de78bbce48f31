/**
 * Fuzz of whole segment files (issue "Crash simulation": fuzz the decoders): a log of a few
 * segments on the simulated disk, one file mutated at random (flipped bits, overwritten runs,
 * random or zero bytes, truncation, a copied frame, a shuffled sector), then opened in every
 * recovery mode and read. An open never hangs, fails only with typed errors, and a record it
 * returns is always one that was written, byte for byte, at that LSN.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Log, type LogOptions, type RecoveryMode } from "../../src/index.js";
import { SimulatedDisk, seededRandom } from "../../src/testing/index.js";
import { assertTyped } from "../support/typed.js";

const CASES = Number(process.env.LOGBOOK_FUZZ_CASES ?? 600);
const DIR = "/data/log";
const MODES: RecoveryMode[] = ["tolerate-tail", "strict", "salvage", "point-in-time"];
const HANG_MS = 10_000;

const payload = (lsn: number) =>
  new TextEncoder().encode(`fuzz-${lsn}-`.padEnd(24 + ((lsn * 53) % 400), String.fromCharCode(97 + (lsn % 26))));

async function buildLog(disk: SimulatedDisk, options: LogOptions): Promise<void> {
  const log = await Log.open(DIR, { ...options, fileSystem: disk.view() });
  for (let lsn = 1; lsn <= 80; lsn += 4) {
    await Promise.all([1, 2, 3].map((k) => log.append(payload(lsn + k - 1))));
    await log.append(payload(lsn + 3));
  }
  await log.close();
}

function mutate(bytes: Uint8Array, random: () => number): { bytes: Uint8Array; how: string } {
  const out = bytes.slice();
  const at = () => Math.floor(random() * out.byteLength);
  const kind = Math.floor(random() * 7);
  switch (kind) {
    case 0: {
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) {
        const offset = at();
        out[offset] = (out[offset] as number) ^ (1 << Math.floor(random() * 8));
      }
      return { bytes: out, how: `${flips} flipped bits` };
    }
    case 1: {
      const offset = at();
      const length = 1 + Math.floor(random() * 64);
      for (let i = offset; i < Math.min(out.byteLength, offset + length); i++) out[i] = Math.floor(random() * 256);
      return { bytes: out, how: `${length} random bytes at ${offset}` };
    }
    case 2: {
      const offset = at();
      out.fill(0, offset, offset + 1 + Math.floor(random() * 1024));
      return { bytes: out, how: `zeros at ${offset}` };
    }
    case 3:
      return { bytes: out.slice(0, at()), how: "truncated" };
    case 4: {
      // A frame-sized run copied over another place: a plausible header at the wrong spot.
      const from = at();
      const to = at();
      const length = Math.min(256 + Math.floor(random() * 1024), out.byteLength - Math.max(from, to));
      if (length > 0) out.copyWithin(to, from, from + length);
      return { bytes: out, how: `copied ${length} bytes from ${from} to ${to}` };
    }
    case 5: {
      const a = Math.floor(random() * Math.floor(out.byteLength / 512)) * 512;
      const b = Math.floor(random() * Math.floor(out.byteLength / 512)) * 512;
      const sector = out.slice(a, a + 512);
      out.copyWithin(a, b, b + 512);
      out.set(sector.subarray(0, Math.max(0, Math.min(512, out.byteLength - b))), b);
      return { bytes: out, how: `sectors ${a / 512} and ${b / 512} swapped` };
    }
    default: {
      // The length field of some record or frame made huge or odd.
      const offset = at() & ~3;
      new DataView(out.buffer).setUint32(Math.min(offset, out.byteLength - 4), Math.floor(random() * 2 ** 32), true);
      return { bytes: out, how: `u32 at ${offset} replaced` };
    }
  }
}

async function withinTime<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

test(`mutated segment files: ${CASES} cases × ${MODES.length} recovery modes never hang, fail typed, never return other bytes`, async () => {
  const outcomes = { opened: 0, refused: 0, recordsRead: 0, readErrors: 0 };
  for (let seed = 1; seed <= CASES; seed++) {
    const random = seededRandom(seed ^ 0xf022);
    const disk = new SimulatedDisk(seed);
    const options: LogOptions = { segmentBytes: 8192 + 64, batchBytesMax: 4096, preallocate: random() < 0.5 };
    await buildLog(disk, options);
    const segments = disk.paths().filter((path) => /\/\d{20}\.log$/.test(path));
    const victim = segments[Math.floor(random() * segments.length)] as string;
    const { bytes, how } = mutate(disk.readFile(victim), random);
    disk.replaceFile(victim, bytes);
    const mode = MODES[seed % MODES.length] as RecoveryMode;
    const where = `case ${seed}: ${victim.slice(DIR.length + 1)} ${how}, ${mode}`;
    let log: Log;
    try {
      log = await withinTime(Log.open(DIR, { ...options, recovery: mode, fileSystem: disk.view() }), `${where}: open`);
    } catch (error) {
      assertTyped(error, `${where}: open`);
      outcomes.refused++;
      continue;
    }
    outcomes.opened++;
    try {
      await withinTime(
        (async () => {
          for await (const record of log.read()) {
            assert.deepEqual(record.payload, payload(record.lsn), `${where}: record ${record.lsn} is what was written`);
            outcomes.recordsRead++;
          }
        })(),
        `${where}: read`,
      );
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertTyped(error, `${where}: read`);
      outcomes.readErrors++;
    } finally {
      await log.close();
    }
  }
  console.log(
    `# segment fuzz: ${CASES} mutated logs, ${outcomes.opened} opened (${outcomes.recordsRead} records read, all as written; ` +
      `${outcomes.readErrors} reads stopped by a typed error), ${outcomes.refused} refused with a typed error`,
  );
  assert.ok(outcomes.opened > 0 && outcomes.refused > 0);
});
