/**
 * The child of the streams SIGKILL test (test/store/streams-crash.test.ts). Producers add to two
 * streams with producer IDs, consumers of two groups read, ack and claim, a trimmer trims by
 * minimum ID, a checkpointer checkpoints all the time (and the store every few KiB of log), so
 * kills land during all of them. It prints one line per acknowledged result:
 * - `add <stream> <producerId> <id>`: an add resolved that ID;
 * - `retry <stream> <producerId> <id>`: at start, a retried add of an earlier round resolved that ID;
 * - `deliver <stream> <group> <id>...`: a `>` read delivered these;
 * - `ack <stream> <group> <id>...`: these acks are acknowledged;
 * - `trim <stream> <minId>`: a trim below minId is acknowledged.
 * Before it issues an ack or a trim it prints `try-ack`/`try-trim` likewise: an operation in
 * flight at the kill may or may not have happened.
 */
import { Store } from "../../src/index.js";

export const STREAMS = ["s0", "s1"] as const;
export const GROUPS = ["g1", "g2"] as const;
export const PRODUCERS = 4;
export const RETRIES_PER_PRODUCER = 3;
export const STREAMS_CRASH_OPTIONS = { segmentBytes: 32 * 1024, batchBytesMax: 16 * 1024, checkpointEveryBytes: 8 * 1024 };

export const streamOf = (producer: number) => STREAMS[producer % STREAMS.length] as string;
export const producerId = (round: number, producer: number, index: number) => `r${round}-p${producer}-${index}`;
/** The fields of the add with this producer ID: the parent checks them from the ID alone. */
export const fieldsOf = (pid: string): [string, string][] => [
  ["pid", pid],
  ["body", pid.repeat(1 + (pid.length % 7))],
];

const print = (line: string) => process.stdout.write(`${line}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function retryEarlier(db: Store, round: number): Promise<void> {
  if (round === 0) return;
  for (let p = 0; p < PRODUCERS; p++) {
    for (let i = 0; i < RETRIES_PER_PRODUCER; i++) {
      const pid = producerId(round - 1, p, i);
      const id = await db.streams.add(streamOf(p), fieldsOf(pid), { producerId: pid });
      print(`retry ${streamOf(p)} ${pid} ${id}`);
    }
  }
}

async function producer(db: Store, round: number, p: number): Promise<void> {
  for (let i = 0; ; i++) {
    const pid = producerId(round, p, i);
    const id = await db.streams.add(streamOf(p), fieldsOf(pid), { producerId: pid });
    print(`add ${streamOf(p)} ${pid} ${id}`);
  }
}

async function consumer(db: Store, stream: string, group: string, name: string): Promise<void> {
  for (let turn = 0; ; turn++) {
    const read = await db.streams.readGroup(group, name, { [stream]: ">" }, { count: 5, blockMs: 20 });
    const ids = read?.[0]?.entries.map((e) => e.id) ?? [];
    if (ids.length > 0) print(`deliver ${stream} ${group} ${ids.join(" ")}`);
    // Acks most, leaves some pending for the claims and for the checks of pending lists.
    const acking = ids.filter((_, i) => (i + turn) % 3 !== 0);
    if (acking.length > 0) {
      print(`try-ack ${stream} ${group} ${acking.join(" ")}`);
      await db.streams.ack(stream, group, acking);
      print(`ack ${stream} ${group} ${acking.join(" ")}`);
    }
    if (turn % 4 === 3) {
      const idle = db.streams.pendingEntries(stream, group, { count: 3 }).map((e) => e.id);
      if (idle.length > 0) await db.streams.claim(stream, group, name, 0, idle);
    }
  }
}

async function trimmer(db: Store): Promise<void> {
  for (let turn = 0; ; turn++) {
    await pause(15);
    const stream = STREAMS[turn % STREAMS.length] as string;
    // Trims below the 40th newest entry: old entries, some of them still pending in the groups.
    const [oldest] = (await db.streams.range(stream, { reverse: true, count: 40 })).slice(-1);
    if (oldest === undefined || db.streams.length(stream) < 40) continue;
    print(`try-trim ${stream} ${oldest.id}`);
    await db.streams.trim(stream, { minId: oldest.id });
    print(`trim ${stream} ${oldest.id}`);
  }
}

async function checkpointer(db: Store): Promise<void> {
  for (;;) {
    await db.checkpoint();
    await pause(10);
  }
}

async function main(): Promise<void> {
  const [dir, roundText] = process.argv.slice(2);
  if (dir === undefined || roundText === undefined) throw new Error("usage: streams-crash-writer DIR ROUND");
  const round = Number(roundText);
  const db = await Store.open(dir, STREAMS_CRASH_OPTIONS);
  for (const stream of STREAMS) {
    for (const group of GROUPS) {
      await db.streams.createGroup(stream, group, { start: "0", mkStream: true }).catch((error: { code?: string }) => {
        if (error.code !== "LOGBOOK_GROUP_EXISTS") throw error;
      });
    }
  }
  print("ready");
  await retryEarlier(db, round);
  const consumers = STREAMS.flatMap((s) => GROUPS.flatMap((g) => [consumer(db, s, g, "c1"), consumer(db, s, g, "c2")]));
  const producers = Array.from({ length: PRODUCERS }, (_, p) => producer(db, round, p));
  await Promise.all([checkpointer(db), trimmer(db), ...producers, ...consumers]);
}

if (process.argv[1]?.includes("streams-crash-writer")) await main();
