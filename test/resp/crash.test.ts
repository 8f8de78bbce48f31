/**
 * SIGKILL of `logbook serve` under pipelined Redis writes from many connections: after a
 * restart on the same directory, every reply received before the kill is durable. A SET's key
 * holds its value or a later one from the same writer; a counter is at least its acknowledged
 * INCRs and at most those plus the ones in flight; an acknowledged XADD's ID is in its stream;
 * an acknowledged XACK's entries are no longer pending. Each test runs several kill rounds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, RawClient, RespReplyError, type RespValue } from "../support/resp.js";
import { killProcess, type ServerProcess, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

const ROUNDS = 4;
const WRITERS = 8;
/** Commands one connection sends before it reads their replies. */
const WINDOW = 16;

interface Parts {
  incr: boolean;
  streams: boolean;
}

/** What the clients know, across rounds: what was acknowledged, and what was sent and not answered. */
class Ledger {
  /** Per writer: the newest seq of its `w<n>` key that was acknowledged, and the newest sent. */
  readonly lastAcked = new Array<number>(WRITERS).fill(-1);
  readonly lastSent = new Array<number>(WRITERS).fill(-1);
  readonly nextSeq = new Array<number>(WRITERS).fill(0);
  /** Unique keys acknowledged, with their values. */
  readonly unique = new Map<string, string>();
  /** Per writer: INCRs acknowledged (the counter's value last seen plus the acks since) and unanswered. */
  readonly increments = new Array<number>(WRITERS).fill(0);
  readonly unanswered = new Array<number>(WRITERS).fill(0);
  /** Per writer: entry IDs whose XADD was acknowledged, and IDs whose XACK was. */
  readonly added = Array.from({ length: WRITERS }, () => new Set<string>());
  readonly acked = Array.from({ length: WRITERS }, () => new Set<string>());
}

type Expectation = (reply: RespValue) => void;

/** One connection's load: windows of pipelined commands until the server dies. */
async function writer(port: number, w: number, ledger: Ledger, parts: Parts, stop: () => boolean): Promise<void> {
  const c = await RawClient.connect(port);
  const closed = c.closed.then(() => "closed" as const);
  let toAck: string[] = [];
  try {
    while (!stop()) {
      const window: [RespValue[], Expectation][] = [];
      for (let i = 0; i < WINDOW; i++) {
        const seq = ledger.nextSeq[w] as number;
        ledger.nextSeq[w] = seq + 1;
        window.push(setCommand(w, seq, ledger));
        if (seq % 4 === 0) window.push(uniqueSetCommand(w, seq, ledger));
        if (parts.incr && seq % 2 === 0) window.push(incrCommand(w, ledger));
        if (parts.streams && seq % 3 === 0) window.push(xaddCommand(w, seq, ledger));
      }
      if (parts.streams) {
        if (toAck.length > 0) window.push(xackCommand(w, toAck, ledger));
        window.push(xreadgroupCommand(w, (ids) => (toAck = ids)));
      }
      c.send(Buffer.concat(window.map(([args]) => encode(args))));
      for (const [, expect] of window) {
        const reply = await Promise.race([c.next(), closed]);
        if (reply === "closed") return;
        expect(reply);
      }
    }
  } finally {
    c.close();
  }
}

function encode(args: RespValue[]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.map((arg) => Buffer.from(`$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`)),
  ]);
}

function setCommand(w: number, seq: number, ledger: Ledger): [RespValue[], Expectation] {
  ledger.lastSent[w] = seq;
  return [
    ["SET", `w${w}`, `${w}:${seq}`],
    (reply) => {
      assert.equal(reply, "OK");
      ledger.lastAcked[w] = Math.max(ledger.lastAcked[w] as number, seq);
    },
  ];
}

function uniqueSetCommand(w: number, seq: number, ledger: Ledger): [RespValue[], Expectation] {
  const key = `u${w}:${seq}`;
  const value = `unique ${w} ${seq} ${"·".repeat(seq % 50)}`;
  return [
    ["SET", key, value],
    (reply) => {
      assert.equal(reply, "OK");
      ledger.unique.set(key, Buffer.from(value).toString("latin1"));
    },
  ];
}

function incrCommand(w: number, ledger: Ledger): [RespValue[], Expectation] {
  ledger.unanswered[w] = (ledger.unanswered[w] as number) + 1;
  return [
    ["INCR", `c${w}`],
    (reply) => {
      assert.equal(typeof reply, "number", String(reply));
      ledger.unanswered[w] = (ledger.unanswered[w] as number) - 1;
      ledger.increments[w] = (ledger.increments[w] as number) + 1;
    },
  ];
}

function xaddCommand(w: number, seq: number, ledger: Ledger): [RespValue[], Expectation] {
  return [
    ["XADD", `x${w}`, "*", "writer", w, "seq", seq],
    (reply) => {
      assert.match(String(reply), /^\d+-\d+$/);
      ledger.added[w]?.add(reply as string);
    },
  ];
}

function xreadgroupCommand(w: number, deliver: (ids: string[]) => void): [RespValue[], Expectation] {
  return [
    ["XREADGROUP", "GROUP", "g", `consumer${w}`, "COUNT", 50, "STREAMS", `x${w}`, ">"],
    (reply) => {
      if (reply === null) return deliver([]);
      const [[, entries]] = reply as [[string, [string, string[]][]]];
      deliver(entries.map(([id]) => id));
    },
  ];
}

function xackCommand(w: number, ids: string[], ledger: Ledger): [RespValue[], Expectation] {
  return [
    ["XACK", `x${w}`, "g", ...ids],
    (reply) => {
      assert.equal(typeof reply, "number", String(reply));
      for (const id of ids) ledger.acked[w]?.add(id);
    },
  ];
}

/** Checks everything the ledger says was acknowledged, then takes the counters' values as the new baseline. */
async function verify(c: RawClient, ledger: Ledger, parts: Parts, round: number): Promise<void> {
  const keys = Array.from({ length: WRITERS }, (_, w) => ["GET", `w${w}`]);
  const values = await c.pipeline(keys);
  for (const [w, value] of values.entries()) {
    const acked = ledger.lastAcked[w] as number;
    if (acked < 0) continue;
    const [writerText, seqText] = String(value).split(":");
    assert.equal(Number(writerText), w, `round ${round}: w${w} holds another writer's value ${value}`);
    const seq = Number(seqText);
    assert.ok(seq >= acked, `round ${round}: w${w} holds seq ${seq}, older than the acknowledged ${acked}`);
    assert.ok(seq <= (ledger.lastSent[w] as number), `round ${round}: w${w} holds seq ${seq}, never sent`);
  }
  const unique = [...ledger.unique];
  const got = await c.pipeline(unique.map(([key]) => ["GET", key]));
  for (const [i, [key, value]] of unique.entries()) assert.equal(got[i], value, `round ${round}: ${key} acknowledged, lost`);
  if (parts.incr) await verifyCounters(c, ledger, round);
  if (parts.streams) await verifyStreams(c, ledger, round);
}

async function verifyCounters(c: RawClient, ledger: Ledger, round: number): Promise<void> {
  const counters = await c.pipeline(Array.from({ length: WRITERS }, (_, w) => ["GET", `c${w}`]));
  for (const [w, text] of counters.entries()) {
    const value = text === null ? 0 : Number(text);
    const acked = ledger.increments[w] as number;
    const inFlight = ledger.unanswered[w] as number;
    assert.ok(
      value >= acked && value <= acked + inFlight,
      `round ${round}: c${w} is ${value}, ${acked} acked, ${inFlight} in flight`,
    );
    ledger.increments[w] = value;
    ledger.unanswered[w] = 0;
  }
}

async function verifyStreams(c: RawClient, ledger: Ledger, round: number): Promise<void> {
  for (let w = 0; w < WRITERS; w++) {
    const added = [...(ledger.added[w] as Set<string>)];
    const ranges = await c.pipeline(added.map((id) => ["XRANGE", `x${w}`, id, id]));
    for (const [i, id] of added.entries()) {
      assert.equal((ranges[i] as RespValue[]).length, 1, `round ${round}: x${w} ${id} acknowledged, missing`);
    }
    const acked = [...(ledger.acked[w] as Set<string>)];
    const pending = await c.pipeline(acked.map((id) => ["XPENDING", `x${w}`, "g", id, id, 1]));
    for (const [i, id] of acked.entries()) {
      assert.deepEqual(pending[i], [], `round ${round}: x${w} ${id} acknowledged by XACK, still pending`);
    }
  }
}

/** Starts `logbook serve` on `dir` with its Redis endpoint on a free port (another port if that one was taken). */
async function startServer(dir: string): Promise<{ server: ServerProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      const args = ["--data-dir", dir, "--resp-port", String(port), "--checkpoint-every-bytes", "262144", "--no-access-log"];
      return { server: await startServerProcess(args), port };
    } catch (error) {
      if (attempt >= 5 || !/ADDRESS_IN_USE|in use/.test(String(error))) throw error;
    }
  }
}

async function crashRounds(parts: Parts): Promise<void> {
  const { path: dir, cleanup } = await tempDir("logbook-resp-kill-");
  const ledger = new Ledger();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { server, port } = await startServer(dir);
      try {
        const c = await RawClient.connect(port);
        await verify(c, ledger, parts, round);
        if (parts.streams) {
          for (let w = 0; w < WRITERS; w++) {
            const created = await c.call("XGROUP", "CREATE", `x${w}`, "g", "0", "MKSTREAM");
            assert.ok(created === "OK" || (created instanceof RespReplyError && created.message.startsWith("BUSYGROUP")));
          }
        }
        c.close();
        let stopped = false;
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(port, w, ledger, parts, () => stopped));
        await sleep(400 + Math.random() * 600);
        await killProcess(server.child, "SIGKILL");
        stopped = true;
        const failed = (await Promise.allSettled(writers)).find((result) => result.status === "rejected");
        if (failed !== undefined) throw failed.reason;
      } finally {
        await killProcess(server.child, "SIGKILL");
      }
    }
    const { server, port } = await startServer(dir);
    try {
      const c = await RawClient.connect(port);
      await verify(c, ledger, parts, ROUNDS);
      c.close();
    } finally {
      await killProcess(server.child, "SIGKILL");
    }
    assert.ok(ledger.unique.size > 200, `only ${ledger.unique.size} acknowledged unique SETs were checked`);
    const streams = ledger.added.reduce((sum, ids) => sum + ids.size, 0);
    process.stdout.write(
      `# Redis SIGKILL: ${ROUNDS} rounds, ${ledger.unique.size} unique SETs` +
        (parts.incr ? `, ${ledger.increments.reduce((a, b) => a + b, 0)} INCRs` : "") +
        (parts.streams ? `, ${streams} XADDs, ${ledger.acked.reduce((sum, ids) => sum + ids.size, 0)} XACKed` : "") +
        " acknowledged and checked\n",
    );
  } finally {
    await cleanup();
  }
}

test("SIGKILL under pipelined SETs from many connections: every acknowledged SET is durable", { timeout: 120_000 }, () =>
  crashRounds({ incr: false, streams: false }),
);

test(
  "SIGKILL under pipelined SET, INCR, XADD and XACK: every acknowledged effect survives; counters within their INCRs in flight",
  { timeout: 120_000 },
  () => crashRounds({ incr: true, streams: true }),
);
