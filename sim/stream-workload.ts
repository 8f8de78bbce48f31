/**
 * The stream part of the store simulation: adds with producer IDs, group reads, acks and
 * minimum-ID trims on two streams, interleaved with the key-value writes. A stream operation is
 * required to survive once it was acknowledged and (under sync `interval`/`none`) the log had
 * made durable an LSN at least the one applied when it resolved. After every recovery:
 * 1. each required add is in its stream with its ID and fields, unless a trim issued before
 *    could have removed it; no producer ID is in a stream twice; the stream's last ID is not
 *    below any required add's;
 * 2. each required ack stays acknowledged; each required delivery is at or below its group's
 *    last delivered ID, and acked or still pending;
 * 3. an add after the recovery gets an ID above every required one, and an add retried with a
 *    required producer ID resolves the same ID.
 * Reading an entry body may fail typed after latent damage (a check it cannot pass).
 */
import { isLogbookError, type Store, type SyncMode } from "../src/index.js";
import { check, type Deferred, type SimCounts, typed } from "./checks.js";

const STREAMS = ["st0", "st1"] as const;
const GROUP = "g";
/** Entries a trim keeps (old entries go, so that data segments fill and get released). */
const TRIM_KEEP = 12;

const idValue = (id: string) => {
  const [ms, seq] = id.split("-");
  return (BigInt(ms as string) << 64n) | BigInt(seq as string);
};
/** The fields of the add with producer ID `<tag>-<stream>-<pad>`: checkable from the ID alone. */
const fieldsOf = (pid: string): [string, string][] => [
  ["pid", pid],
  ["pad", "x".repeat(Number(pid.slice(pid.lastIndexOf("-") + 1)))],
];

type Acked =
  | { kind: "add"; stream: string; pid: string; id: string; bound: number }
  | { kind: "ack"; stream: string; ids: string[]; bound: number }
  | { kind: "deliver"; stream: string; ids: string[]; bound: number };

interface Required {
  adds: Map<string, string>;
  highest: bigint;
  acked: Set<string>;
  delivered: Set<string>;
}

export class StreamWorkload {
  private readonly required = new Map<string, Required>(
    STREAMS.map((s) => [s, { adds: new Map(), highest: 0n, acked: new Set(), delivered: new Set() }]),
  );
  /** Acknowledged in this cycle, not yet known durable. */
  private acked: Acked[] = [];
  /** Per stream: acks and trims issued, acknowledged or not (either may have happened). */
  private readonly ackTried = new Map<string, Set<string>>(STREAMS.map((s) => [s, new Set()]));
  private readonly trimmedBelow = new Map<string, bigint>(STREAMS.map((s) => [s, 0n]));
  /** Per stream: delivered and not yet acked, for the acks to pick from. */
  private readonly unacked = new Map<string, string[]>(STREAMS.map((s) => [s, []]));

  constructor(
    private readonly seed: number,
    private readonly random: () => number,
    private readonly counts: SimCounts,
    private readonly deferred: Deferred,
  ) {}

  /** Checks 1 and 2 on a recovered store; false when a read failed typed after latent damage. */
  async verify(db: Store, where: string, latent: boolean): Promise<boolean> {
    try {
      for (const stream of STREAMS) await this.verifyStream(db, stream, `${where}, ${stream}`);
      return true;
    } catch (error) {
      if (latent && isLogbookError(error) && error.code === "LOGBOOK_CORRUPTION") return false;
      throw error;
    }
  }

  private async verifyStream(db: Store, stream: string, where: string): Promise<void> {
    const req = this.required.get(stream) as Required;
    if (!db.streams.keys().includes(stream)) {
      check(req.adds.size === 0 && req.delivered.size === 0, this.seed, `${where}: the stream is gone`);
      return;
    }
    const entries = new Map<string, string>();
    for await (const entry of db.streams.entries(stream)) {
      const pid = entry.fields?.[0]?.[1] as string;
      check(JSON.stringify(entry.fields) === JSON.stringify(fieldsOf(pid)), this.seed, `${where}: fields of ${entry.id}`);
      check(![...entries.values()].includes(pid), this.seed, `${where}: producer ID ${pid} added twice`);
      entries.set(entry.id, pid);
    }
    const trimmed = this.trimmedBelow.get(stream) as bigint;
    for (const [pid, id] of req.adds) {
      if (idValue(id) < trimmed) continue;
      check(entries.get(id) === pid, this.seed, `${where}: acknowledged add ${pid} → ${id} lost`);
      this.counts.streamChecks++;
    }
    const info = await db.streams.info(stream);
    check(idValue(info.lastGeneratedId) >= req.highest, this.seed, `${where}: the last ID went back`);
    const group = db.streams.groups(stream).find((g) => g.name === GROUP);
    const pending = group === undefined ? new Set<string>() : new Set(db.streams.pendingEntries(stream, GROUP).map((p) => p.id));
    const last = idValue(group?.lastDeliveredId ?? "0-0");
    const tried = this.ackTried.get(stream) as Set<string>;
    for (const id of req.acked) check(!pending.has(id), this.seed, `${where}: acknowledged ack of ${id} undone`);
    for (const id of req.delivered) {
      check(idValue(id) <= last, this.seed, `${where}: delivered ${id} is past the group's last delivered ID`);
      check(pending.has(id) || tried.has(id), this.seed, `${where}: delivered ${id} is neither acked nor pending`);
      this.counts.streamChecks++;
    }
    this.unacked.set(
      stream,
      [...pending].filter((id) => !tried.has(id)),
    );
  }

  /** After a recovery: the groups, then retries of a few required producer IDs (check 3). */
  async start(db: Store, where: string): Promise<void> {
    for (const stream of STREAMS) {
      try {
        await db.streams.createGroup(stream, GROUP, { start: "0", mkStream: true });
      } catch (error) {
        typed(error, this.seed, `${where}: create group`);
      }
      const adds = [...(this.required.get(stream) as Required).adds];
      for (let i = 0; i < 2 && adds.length > 0; i++) {
        const [pid, id] = adds[Math.floor(this.random() * adds.length)] as [string, string];
        const again = await db.streams.add(stream, fieldsOf(pid), { producerId: pid });
        check(again === id, this.seed, `${where}: retried ${pid} resolved ${again}, not its acknowledged ${id}`);
        this.counts.streamChecks++;
      }
    }
  }

  /** Issues one stream operation; `tag` makes its producer ID unique in the run, `pad` sizes an add. */
  issue(db: Store, where: string, tag: string, pad: number): void {
    const stream = STREAMS[Math.floor(this.random() * STREAMS.length)] as string;
    const draw = this.random();
    const floor = (this.required.get(stream) as Required).highest;
    const resolved = <T>(promise: Promise<T>, then: (value: T) => void) =>
      promise.then(
        (value) =>
          this.deferred.run(() => {
            this.counts.streamOps++;
            then(value);
          }),
        (error: unknown) => this.deferred.run(() => typed(error, this.seed, `${where}: stream operation`)),
      );
    const bound = () => db.stats().appliedLsn;
    if (draw < 0.5) {
      const pid = `${tag}-${stream}-${pad}`;
      resolved(db.streams.add(stream, fieldsOf(pid), { producerId: pid }), (id) => {
        check(id !== null && idValue(id) > floor, this.seed, `${where}: ${pid} got ${id}, not above ${floor}`);
        this.acked.push({ kind: "add", stream, pid, id: id as string, bound: bound() });
      });
    } else if (draw < 0.75) {
      resolved(db.streams.readGroup(GROUP, "c", { [stream]: ">" }, { count: 3 }), (read) => {
        const ids = read?.[0]?.entries.map((e) => e.id) ?? [];
        (this.unacked.get(stream) as string[]).push(...ids);
        this.acked.push({ kind: "deliver", stream, ids, bound: bound() });
      });
    } else if (draw < 0.92) {
      const ids = (this.unacked.get(stream) as string[]).splice(0, 1 + Math.floor(this.random() * 3));
      for (const id of ids) this.ackTried.get(stream)?.add(id);
      resolved(db.streams.ack(stream, GROUP, ids), () => this.acked.push({ kind: "ack", stream, ids, bound: bound() }));
    } else {
      const ids = db.streams.keys().includes(stream) ? db.streams.length(stream) : 0;
      if (ids <= TRIM_KEEP) return;
      void db.streams
        .range(stream, { reverse: true, count: TRIM_KEEP })
        .then((kept) => {
          const minId = kept.at(-1)?.id as string;
          if (idValue(minId) > (this.trimmedBelow.get(stream) as bigint)) this.trimmedBelow.set(stream, idValue(minId));
          resolved(db.streams.trim(stream, { minId }), () => undefined);
        })
        .catch((error: unknown) => this.deferred.run(() => typed(error, this.seed, `${where}: range`)));
    }
  }

  /** At the end of a cycle: what was acknowledged and is durable becomes required. */
  settle(sync: SyncMode, durableLsn: number): void {
    for (const op of this.acked) {
      if (sync !== "always" && op.bound > durableLsn) continue;
      const req = this.required.get(op.stream) as Required;
      if (op.kind === "add") {
        req.adds.set(op.pid, op.id);
        if (idValue(op.id) > req.highest) req.highest = idValue(op.id);
      } else for (const id of op.ids) (op.kind === "ack" ? req.acked : req.delivered).add(id);
    }
    this.acked = [];
  }
}
