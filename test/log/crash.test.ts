import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Log } from "../../src/index.js";
import { killAndWait, spawnTs } from "../support/child.js";
import { tempDir } from "../support/temp.js";

const ROUNDS = Number(process.env.LOGBOOK_KILL_ROUNDS ?? 100);
const ROUND_TIME_BUDGET_MS = 6000;
const ROUNDS_PER_LOG = 10;

interface Ack {
  lsn: number;
  digest: string;
}

/** Runs the writer child, kills it with SIGKILL after a random number of acknowledgements. */
async function crashRound(dir: string, round: number, killAfterAcks: number): Promise<Ack[]> {
  const child = await spawnTs("crash-writer.ts", [dir, String(round), "16"]);
  const acks: Ack[] = [];
  let buffered = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => resolve(), ROUND_TIME_BUDGET_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const [kind, lsn, digest] = line.split(" ");
        if (kind === "ack") acks.push({ lsn: Number(lsn), digest: digest as string });
      }
      if (acks.length >= killAfterAcks) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === null) reject(new Error(`writer exited by itself (${code}): ${errors}`));
    });
  });
  await killAndWait(child, "SIGKILL");
  return acks;
}

describe("crash: SIGKILL under concurrent appends", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  after(async () => {
    await cleanup();
  });

  test(`every acknowledged record survives ${ROUNDS} kills, intact and in order, as a prefix of what was appended`, async () => {
    const acknowledged = new Map<number, string>();
    let torn = 0;
    let checked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh log every ROUNDS_PER_LOG kills: each open scans the whole log, which would
      // otherwise grow with every round and make the test quadratic.
      const logDir = join(dir, String(Math.floor(round / ROUNDS_PER_LOG)));
      if (round % ROUNDS_PER_LOG === 0) {
        checked += acknowledged.size;
        acknowledged.clear();
      }
      // Skewed small, zero included: kills land during start-up and recovery too.
      const killAfter = Math.floor(Math.random() ** 3 * 1500);
      for (const ack of await crashRound(logDir, round, killAfter)) acknowledged.set(ack.lsn, ack.digest);
      // Read-only: no writer thread to start, and the next child recovers what the kill left.
      await using log = await Log.open(logDir, { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024, readOnly: true });
      if (log.recovery.tornTail) torn++;
      const lastSeq = new Map<string, number>();
      let expected = 1;
      let openBatch: { writer: string; seq: number; next: number } | undefined;
      for await (const record of log.read()) {
        assert.equal(record.lsn, expected++, "no hole, no reordering");
        const want = acknowledged.get(record.lsn);
        if (want !== undefined) {
          assert.equal(createHash("sha256").update(record.payload).digest("hex"), want, `record ${record.lsn} intact`);
        }
        const [recordRound, writer, seqText, part] = new TextDecoder().decode(record.payload).split(":");
        const key = `${recordRound}:${writer}`;
        const seq = Number(seqText);
        // Each writer waits for its previous append, so its records are in order with no gap.
        const previous = lastSeq.get(key);
        if (part === "s" || part === "b0/3") {
          assert.ok(previous === undefined ? seq === 0 : seq === previous + 1, `writer ${key} seq ${seq} after ${previous}`);
        }
        lastSeq.set(key, seq);
        if (part?.startsWith("b")) {
          const index = Number(part.slice(1, 2));
          if (index === 0) openBatch = { writer: key, seq, next: 1 };
          else {
            assert.ok(openBatch && openBatch.writer === key && openBatch.seq === seq && openBatch.next === index);
            openBatch.next++;
          }
          if (index === 2) openBatch = undefined;
        } else {
          assert.equal(openBatch, undefined, "a batch is never split by another record");
        }
      }
      assert.equal(openBatch, undefined, "a batch is never half applied");
      const lastRecovered = expected - 1;
      for (const lsn of acknowledged.keys()) assert.ok(lsn <= lastRecovered, `acknowledged LSN ${lsn} survived`);
    }
    checked += acknowledged.size;
    assert.ok(checked > ROUNDS * 20);
    console.log(`# crash: ${ROUNDS} SIGKILL rounds, ${checked} acknowledged records checked, ${torn} torn tails cut`);
  });
});
