/**
 * Streams under SIGKILL: a child (test/support/streams-crash-writer.ts) runs producers with
 * producer IDs, consumer groups that read, ack and claim, minimum-ID trims and checkpoints,
 * printing each acknowledged result; the parent kills it at a random moment, reopens the store
 * and checks that every acknowledged add is there with its ID and fields (unless a trim issued
 * before the kill could have removed it), that each producer ID is in its stream at most once,
 * that acknowledged acks stay acknowledged, that every entry up to a group's last delivered ID
 * is acknowledged or still pending, that IDs keep increasing across restarts, and that an add
 * retried with an acknowledged producer ID resolves the same ID.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Store } from "../../src/index.js";
import { killAndWait, spawnTs } from "../support/child.js";
import { localLogOnly } from "../support/store-log.js";
import { fieldsOf, GROUPS, STREAMS, STREAMS_CRASH_OPTIONS } from "../support/streams-crash-writer.js";
import { tempDir } from "../support/temp.js";

const ROUNDS = Number(process.env.LOGBOOK_STREAMS_KILL_ROUNDS ?? 8);
const ROUND_TIME_BUDGET_MS = 6000;

const idValue = (id: string) => {
  const [ms, seq] = id.split("-");
  return (BigInt(ms as string) << 64n) | BigInt(seq as string);
};

/** Everything the children got acknowledged (and tried), over all rounds. */
class Acks {
  /** stream → producer ID → ID. */
  readonly adds = new Map<string, Map<string, string>>(STREAMS.map((s) => [s, new Map()]));
  /** stream → the highest acknowledged ID. */
  readonly highest = new Map<string, bigint>(STREAMS.map((s) => [s, 0n]));
  /** `stream group` → IDs acknowledged (acked) / tried (try-ack) / delivered. */
  readonly acked = new Map<string, Set<string>>();
  readonly ackTried = new Map<string, Set<string>>();
  readonly delivered = new Map<string, Set<string>>();
  /** stream → the highest minimum ID a trim was tried with. */
  readonly trimmedBelow = new Map<string, bigint>(STREAMS.map((s) => [s, 0n]));
  count = 0;
  retriesChecked = 0;

  private set(map: Map<string, Set<string>>, key: string): Set<string> {
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    return set;
  }

  /** Takes one line of the child; `floor` is each stream's highest acknowledged ID when the round began. */
  take(line: string, floor: Map<string, bigint>): void {
    const [kind, stream = "", a = "", ...rest] = line.split(" ");
    if (kind === "add" || kind === "retry") {
      const id = rest[0] as string;
      const known = this.adds.get(stream)?.get(a);
      if (kind === "retry" && known !== undefined) {
        assert.equal(id, known, `a retried add of ${a} resolved ${id}, not its acknowledged ${known}`);
        this.retriesChecked++;
        return;
      }
      if (kind === "add")
        assert.ok(idValue(id) > (floor.get(stream) as bigint), `${stream}: ${id} is not above the IDs acknowledged before`);
      this.adds.get(stream)?.set(a, id);
      if (idValue(id) > (this.highest.get(stream) as bigint)) this.highest.set(stream, idValue(id));
    } else if (kind === "deliver") {
      for (const id of rest) this.set(this.delivered, `${stream} ${a}`).add(id);
    } else if (kind === "ack") {
      for (const id of rest) this.set(this.acked, `${stream} ${a}`).add(id);
    } else if (kind === "try-ack") {
      for (const id of rest) this.set(this.ackTried, `${stream} ${a}`).add(id);
    } else if (kind === "try-trim") {
      if (idValue(a) > (this.trimmedBelow.get(stream) as bigint)) this.trimmedBelow.set(stream, idValue(a));
    } else if (kind !== "trim" && kind !== "ready") {
      throw new Error(`unknown line from the child: ${line}`);
    }
    if (kind !== "ready" && !kind.startsWith("try")) this.count++;
  }
}

async function crashRound(dir: string, round: number, acks: Acks, killAfter: number): Promise<void> {
  const floor = new Map(acks.highest);
  const child = await spawnTs("streams-crash-writer.ts", [dir, String(round)]);
  let seen = 0;
  let buffered = "";
  let errors = "";
  let failure: unknown;
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ROUND_TIME_BUDGET_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        try {
          acks.take(line, floor);
        } catch (error) {
          failure ??= error;
        }
        seen++;
      }
      if (seen >= killAfter || failure !== undefined) {
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
  if (failure !== undefined) throw failure;
}

async function check(db: Store, acks: Acks, round: number): Promise<number> {
  let checked = 0;
  for (const stream of STREAMS) {
    const where = `round ${round}, ${stream}`;
    const entries = new Map<string, [string, string][]>();
    for await (const entry of db.streams.entries(stream)) entries.set(entry.id, entry.fields ?? []);
    const pids = new Set<string>();
    for (const [id, fields] of entries) {
      const pid = fields[0]?.[1] as string;
      assert.ok(!pids.has(pid), `${where}: ${pid} is in the stream twice`);
      pids.add(pid);
      assert.deepEqual(fields, fieldsOf(pid), `${where}: fields of ${id}`);
    }
    const trimmed = acks.trimmedBelow.get(stream) as bigint;
    for (const [pid, id] of acks.adds.get(stream) ?? []) {
      if (idValue(id) < trimmed) continue;
      assert.ok(entries.has(id), `${where}: acknowledged add ${pid} → ${id} lost`);
      assert.equal(entries.get(id)?.[0]?.[1], pid, `${where}: ${id} holds another add`);
      checked++;
    }
    const info = await db.streams.info(stream);
    assert.ok(idValue(info.lastGeneratedId) >= (acks.highest.get(stream) as bigint), `${where}: last ID went back`);
    for (const group of GROUPS) {
      const key = `${stream} ${group}`;
      const pending = new Set(db.streams.pendingEntries(stream, group, { count: 10_000 }).map((e) => e.id));
      const last = idValue(db.streams.groups(stream).find((g) => g.name === group)?.lastDeliveredId ?? "0-0");
      const acked = acks.acked.get(key) ?? new Set();
      const tried = acks.ackTried.get(key) ?? new Set();
      for (const id of acked) assert.ok(!pending.has(id), `${where}/${group}: acknowledged ack of ${id} undone`);
      for (const id of acks.delivered.get(key) ?? []) {
        assert.ok(idValue(id) <= last, `${where}/${group}: delivered ${id} is past the last delivered ID`);
        // A trimmed entry may leave the pending list through a claim (as XCLAIM drops deleted entries).
        if (idValue(id) >= trimmed)
          assert.ok(pending.has(id) || tried.has(id), `${where}/${group}: delivered ${id} neither acked nor pending`);
      }
      for (const id of entries.keys()) {
        if (idValue(id) <= last)
          assert.ok(pending.has(id) || tried.has(id), `${where}/${group}: ${id} was delivered but is neither acked nor pending`);
      }
    }
  }
  return checked;
}

describe(
  "streams crash: SIGKILL under producers, consumer groups, trims and checkpoints",
  localLogOnly("a killed process reopens its files"),
  () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ path: dir, cleanup } = await tempDir());
    });
    after(async () => {
      await cleanup();
    });

    test(`after each of ${ROUNDS} kills every acknowledged stream operation survives`, async () => {
      const acks = new Acks();
      let checked = 0;
      let checkpointLoads = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Skewed small, zero included: kills land during start-up, recovery and checkpoints too.
        await crashRound(dir, round, acks, Math.floor(Math.random() ** 2 * 600));
        await using db = await Store.open(dir, { ...STREAMS_CRASH_OPTIONS, readOnly: true });
        if (db.recovery.checkpointLsn > 0) checkpointLoads++;
        checked += await check(db, acks, round);
      }
      assert.ok(acks.count > ROUNDS * 10, `only ${acks.count} acknowledged results`);
      console.log(
        `# streams crash: ${ROUNDS} SIGKILL rounds, ${acks.count} acknowledged results, ${checked} entry checks, ` +
          `${acks.retriesChecked} retried adds resolved their first ID, ${checkpointLoads} recoveries from a checkpoint`,
      );
    });
  },
);
