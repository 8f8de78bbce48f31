/**
 * Hostile input on the Redis endpoint: 1,200 generated protocol abuses (seeded, so a failure
 * names a case that replays), each sent after a few valid commands and delivered whole, split at
 * random byte boundaries, or trickled a few bytes at a time. For every case: the server does not
 * crash or hang (a PING on a fresh connection answers), the valid commands before the abuse get
 * exactly their replies, whatever comes after is well-formed RESP (replies or errors) possibly
 * followed by a close, and a write acknowledged before the abuse is readable afterwards.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { pino } from "pino";
import { encodeCommand, RawClient, RespReplyError, type RespValue, startRespServer } from "../support/resp.js";

const CASES = 1200;
const SEED = 2026;
const CONCURRENCY = 16;
/** A connection that sent its abuse and got nothing for this long is considered waiting for more input. */
const QUIET_MS = 60;
/** The valid commands before an abuse must be answered within this. */
const REPLY_TIMEOUT_MS = 30_000;
/** A fresh connection's PING must answer within this (else the server hangs). */
const PING_TIMEOUT_MS = 5000;

const LIMITS = {
  respBulkBytesMax: 100_000,
  respMultibulkCountMax: 1000,
  respInlineBytesMax: 4096,
  respOutputBytesMax: 1024 * 1024,
  respPipelineBytesMax: 256 * 1024,
};

// ---- valid commands, as templates made concrete with the case's own keys ----

type Template =
  | { kind: "ping"; inline: boolean }
  | { kind: "echo"; payload: Uint8Array; inline: boolean }
  | { kind: "setget"; payload: Uint8Array; inline: boolean }
  | { kind: "unknown"; inline: boolean }
  | { kind: "arity"; inline: boolean };

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(Buffer.from("\0\0\0"), Buffer.from("\r\n"), Buffer.from("\"quoted\" 'single'"), Buffer.alloc(20_000, 7)),
);

const template: fc.Arbitrary<Template> = fc.oneof(
  fc.record({ kind: fc.constant("ping" as const), inline: fc.boolean() }),
  fc.record({ kind: fc.constant("echo" as const), payload, inline: fc.boolean() }),
  fc.record({ kind: fc.constant("setget" as const), payload, inline: fc.boolean() }),
  fc.record({ kind: fc.constant("unknown" as const), inline: fc.boolean() }),
  fc.record({ kind: fc.constant("arity" as const), inline: fc.boolean() }),
);

/** An argument on an inline line: double-quoted, every byte but letters and digits as \xHH. */
function inlineArg(bytes: Uint8Array): string {
  let out = '"';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(c) ? c : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

/** A command as a multibulk, or inline when asked and its line fits under the inline limit. */
function encode(args: (string | Uint8Array)[], inline: boolean): Buffer {
  const words = args.map((arg) => (typeof arg === "string" ? arg : inlineArg(arg)));
  const line = `${words.join(" ")}\r\n`;
  if (inline && line.length < LIMITS.respInlineBytesMax) return Buffer.from(line, "latin1");
  return encodeCommand(args.map((arg) => (typeof arg === "string" ? arg : Buffer.from(arg))));
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

/** The bytes of a template for case `id`, its expected replies, and the keys it acknowledges with their values. */
function concrete(t: Template, id: string, n: number): { bytes: Buffer; replies: RespValue[]; writes: [string, string][] } {
  switch (t.kind) {
    case "ping":
      return { bytes: encode(["PING"], t.inline), replies: ["PONG"], writes: [] };
    case "echo":
      return { bytes: encode(["ECHO", t.payload], t.inline), replies: [latin1(t.payload)], writes: [] };
    case "setget": {
      const key = `${id}:k${n}`;
      const bytes = Buffer.concat([encode(["SET", key, t.payload], t.inline), encode(["GET", key], t.inline)]);
      return { bytes, replies: ["OK", latin1(t.payload)], writes: [[key, latin1(t.payload)]] };
    }
    case "unknown":
      return {
        bytes: encode(["NOSUCHCMD", "a"], t.inline),
        replies: [new RespReplyError("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' ")],
        writes: [],
      };
    case "arity":
      return {
        bytes: encode(["GET"], t.inline),
        replies: [new RespReplyError("ERR wrong number of arguments for 'get' command")],
        writes: [],
      };
  }
}

// ---- abuses: bytes that are not (all) valid commands ----

const ascii = (text: string) => Buffer.from(text, "latin1");
const digits = fc.constantFrom("-5", "-1", "-0", "0", "abc", "", "1.5", " 1", "+3", "0x10", "007", "1e3", "99999999999999999999");

const abuse: fc.Arbitrary<{ name: string; bytes: Buffer }> = fc.oneof(
  digits.map((count) => ({ name: "bad multibulk count", bytes: ascii(`*${count}\r\n$4\r\nPING\r\n`) })),
  fc
    .constantFrom("-2", "-1", "abc", "", "+1", " 3", "100001", "99999999999", "1e3", "04")
    .map((length) => ({ name: "bad bulk length", bytes: ascii(`*2\r\n$4\r\nECHO\r\n$${length}\r\nhello\r\n`) })),
  fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })).map(([declared, sent]) => ({
    name: "bulk length mismatch",
    bytes: ascii(`*2\r\n$4\r\nECHO\r\n$${declared}\r\n${"x".repeat(sent)}\r\n*1\r\n$4\r\nPING\r\n`),
  })),
  fc.tuple(fc.integer({ min: 2, max: 999 }), fc.integer({ min: 0, max: 3 })).map(([count, given]) => ({
    name: "count larger than the arguments sent",
    bytes: Buffer.concat([ascii(`*${count}\r\n`), ...Array.from({ length: given }, () => ascii("$1\r\na\r\n"))]),
  })),
  fc.tuple(fc.integer({ min: 1001, max: 1 << 30 }), fc.boolean()).map(([count, negative]) => ({
    name: "huge count",
    bytes: ascii(`*${negative ? -count : count}\r\n`),
  })),
  fc.integer({ min: 100_001, max: 2 ** 52 }).map((length) => ({ name: "huge bulk", bytes: ascii(`*1\r\n$${length}\r\n`) })),
  fc.integer({ min: 20_000, max: 100_000 }).map((length) => ({
    name: "large bulk declared, part sent",
    bytes: Buffer.concat([ascii(`*2\r\n$4\r\nECHO\r\n$${length}\r\n`), Buffer.alloc(Math.min(length - 1, 30_000), 1)]),
  })),
  fc
    .tuple(fc.constantFrom(...["SET a b", "*3", "$3", "PING", "*1\r\n$4\r\nPI"].map(ascii)), fc.nat())
    .map(([bytes, cut]) => ({ name: "truncated frame", bytes: bytes.subarray(0, 1 + (cut % bytes.length)) })),
  fc.uint8Array({ minLength: 1, maxLength: 400 }).map((junk) => ({ name: "binary junk", bytes: Buffer.from(junk) })),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((junk) => ({
    name: "junk after a multibulk header",
    bytes: Buffer.concat([ascii("*2\r\n"), Buffer.from(junk)]),
  })),
  fc.constantFrom("PING", "ECHO x", "GET").map((line) => ({
    name: "inline inside a multibulk",
    bytes: ascii(`*2\r\n$4\r\nECHO\r\n${line}\r\n`),
  })),
  fc.uint8Array({ minLength: 1, maxLength: 30 }).map((junk) => ({
    name: "NUL bytes inline",
    bytes: Buffer.concat([ascii("ECHO a\0"), Buffer.from(junk), ascii("\0 b\r\n")]),
  })),
  fc.integer({ min: 4097, max: 20_000 }).map((length) => ({ name: "very long line", bytes: Buffer.alloc(length, 0x41) })),
  fc.integer({ min: 33, max: 200 }).map((length) => ({ name: "very long header", bytes: ascii(`*${"1".repeat(length)}`) })),
  fc
    .array(fc.constantFrom('"', "'", "\\", "x", "4", " ", "a", "\t", "\\x"), { minLength: 1, maxLength: 20 })
    .map((parts) => ({ name: "quotes", bytes: ascii(`ECHO ${parts.join("")}\r\n`) })),
  fc.constantFrom("\r\n", "\n", "\r", "\r\r\n", " \r\n", "*\r\n", "$\r\n", "*1\r\n$\r\n").map((line) => ({
    name: "empty and bare line ends",
    bytes: ascii(line),
  })),
);

type Delivery = { kind: "whole" } | { kind: "split"; cuts: number[] } | { kind: "trickle"; sizes: number[] };

const delivery: fc.Arbitrary<Delivery> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "whole" as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("split" as const), cuts: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("trickle" as const),
      sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 80 }),
    }),
  },
);

interface Case {
  prefix: Template[];
  /** Undefined: the case is all valid commands, split or trickled. */
  abuse: { name: string; bytes: Buffer } | undefined;
  delivery: Delivery;
}

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  prefix: fc.array(template, { maxLength: 4 }),
  abuse: fc.option(abuse, { freq: 6, nil: undefined }),
  delivery,
});

// ---- running a case ----

/**
 * Sends `bytes` as `how` says; a trickle sends its first pieces with short pauses, then the rest.
 * Stops once the server has ended the connection: a write after that fails the socket, and
 * node then drops replies it has read but not yet emitted.
 */
async function deliver(client: RawClient, bytes: Buffer, how: Delivery): Promise<void> {
  const send = (piece: Buffer) => {
    if (!client.isClosed && !client.socket.writableEnded && !client.socket.readableEnded) client.send(piece);
  };
  if (how.kind === "whole") return send(bytes);
  if (how.kind === "split") {
    const points = [...new Set(how.cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
    let from = 0;
    for (const point of [...points, bytes.length]) {
      send(bytes.subarray(from, point));
      from = point;
      await sleep(0);
    }
    return;
  }
  let at = 0;
  for (const size of how.sizes) {
    if (at >= bytes.length) return;
    send(bytes.subarray(at, at + size));
    at += size;
    await sleep(1);
  }
  if (at < bytes.length) send(bytes.subarray(at));
}

/** Parses RESP2 replies strictly; `rest`: bytes of an incomplete last reply. Throws on anything malformed. */
function parseReplies(buffer: Buffer): { replies: RespValue[]; rest: number } {
  const replies: RespValue[] = [];
  let at = 0;
  for (;;) {
    const parsed = parseOne(buffer, at);
    if (parsed === undefined) return { replies, rest: buffer.length - at };
    replies.push(parsed.value);
    at = parsed.end;
  }
}

function parseOne(buffer: Buffer, at: number): { value: RespValue; end: number } | undefined {
  if (at >= buffer.length) return undefined;
  const lineEnd = buffer.indexOf("\r\n", at);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[at] as number);
  const line = buffer.toString("latin1", at + 1, lineEnd);
  const next = lineEnd + 2;
  assert.ok(!line.includes("\n") && !line.includes("\r"), "a line holds no CR or LF");
  if (type === "+") return { value: line, end: next };
  if (type === "-") return { value: new RespReplyError(line), end: next };
  if (type === ":") {
    assert.match(line, /^-?\d+$/);
    return { value: Number(line), end: next };
  }
  assert.match(line, /^(-1|\d+)$/, `a ${type} length`);
  const length = Number(line);
  if (type === "$") {
    if (length < 0) return { value: null, end: next };
    if (buffer.length < next + length + 2) return undefined;
    assert.equal(buffer.toString("latin1", next + length, next + length + 2), "\r\n", "a bulk ends with CRLF");
    return { value: buffer.toString("latin1", next, next + length), end: next + length + 2 };
  }
  assert.equal(type, "*", `a reply type: ${JSON.stringify(type)}`);
  if (length < 0) return { value: null, end: next };
  const items: RespValue[] = [];
  let end = next;
  for (let i = 0; i < length; i++) {
    const item = parseOne(buffer, end);
    if (item === undefined) return undefined;
    items.push(item.value);
    end = item.end;
  }
  return { value: items, end };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runCase(port: number, index: number, c: Case): Promise<void> {
  const id = `case${index}`;
  const client = await RawClient.connect(port);
  const acknowledged: [string, string][] = [[`${id}:ack`, String(index)]];
  assert.equal(await client.call("SET", `${id}:ack`, String(index)), "OK");
  let received = Buffer.alloc(0);
  let lastDataAt = Date.now();
  client.socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    lastDataAt = Date.now();
  });
  const parts = c.prefix.map((t, n) => concrete(t, id, n));
  const expected = parts.flatMap((part) => part.replies);
  const bytes = Buffer.concat([...parts.map((part) => part.bytes), c.abuse?.bytes ?? Buffer.alloc(0)]);
  await deliver(client, bytes, c.delivery);
  const sentAt = Date.now();
  // Wait for the valid commands' replies (the server shares this event loop: a quiet spell
  // alone proves nothing), then for a quiet spell in which more could have come.
  while (!client.isClosed && Date.now() - sentAt < REPLY_TIMEOUT_MS) {
    const quiet = Date.now() - Math.max(lastDataAt, sentAt) >= QUIET_MS;
    if (quiet && parseReplies(received).replies.length >= expected.length) break;
    await sleep(5);
  }
  const closedByServer = client.isClosed;
  client.close();
  const { replies, rest } = parseReplies(received);
  if (closedByServer) assert.equal(rest, 0, "a server that closes has sent whole replies");
  const got = () =>
    `${JSON.stringify(replies).slice(0, 300)}, closed by the server: ${closedByServer}, after ${Date.now() - sentAt} ms`;
  assert.deepEqual(
    replies.slice(0, expected.length),
    expected,
    `the valid commands before the abuse get their replies; got ${got()}`,
  );
  if (c.abuse === undefined) {
    assert.equal(replies.length, expected.length, "valid commands only: their replies, nothing else");
    assert.ok(!closedByServer, "valid commands only: the connection stays open");
  } else if (closedByServer && replies.length > expected.length) {
    // Closed after the abuse: what it got after the valid replies ends with an error (a protocol error, typically).
    assert.ok(replies.at(-1) instanceof RespReplyError, `closed after ${JSON.stringify(replies.at(-1))}`);
  }
  for (const part of parts) acknowledged.push(...part.writes);
  const fresh = await RawClient.connect(port);
  try {
    assert.equal(await withTimeout(fresh.call("PING"), PING_TIMEOUT_MS, "PING on a fresh connection"), "PONG");
    for (const [key, value] of acknowledged) assert.equal(await fresh.call("GET", key), value, `${key} acknowledged`);
  } finally {
    fresh.close();
  }
}

test(`${CASES} generated protocol abuses: no crash, no hang, no lost acknowledged write`, { timeout: 240_000 }, async () => {
  const problems: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void problems.push(line) });
  const s = await startRespServer(LIMITS, { logger });
  const cases = fc.sample(caseArbitrary, { seed: SEED, numRuns: CASES });
  const kinds = new Map<string, number>();
  for (const c of cases) {
    const name = `${c.abuse?.name ?? "valid only"} (${c.delivery.kind})`;
    kinds.set(name, (kinds.get(name) ?? 0) + 1);
  }
  try {
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < cases.length) {
        const index = next++;
        const c = cases[index] as Case;
        try {
          await runCase(s.respPort, index, c);
        } catch (error) {
          const sent = c.abuse === undefined ? "" : `, abuse ${JSON.stringify(c.abuse.bytes.toString("latin1", 0, 80))}`;
          failures.push(
            `case ${index} (${c.abuse?.name ?? "valid only"}, ${c.delivery.kind}${sent}): ${(error as Error).message}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${cases.length} cases failed (seed ${SEED})`);
    assert.ok(kinds.size >= 30, `${kinds.size} kinds of case`);
    const resp = s.server.resp;
    assert.ok(resp !== undefined);
    assert.equal(resp.stats.refusals.get("internal_error"), 0);
    assert.ok((resp.stats.refusals.get("protocol_error") ?? 0) > 100, "many cases were protocol errors");
    // Every connection, the refused and the abandoned ones too, is let go.
    for (let waited = 0; resp.clientCount > 0 && waited < 3000; waited += 50) await sleep(50);
    assert.equal(resp.clientCount, 0);
    assert.equal(resp.bufferedBytes(), 0);
  } finally {
    await s.stop();
  }
  assert.deepEqual(problems, [], "nothing was logged at warn or above");
});

test("a pipeline split at every byte boundary, in two TCP writes, gets the same replies", { timeout: 60_000 }, async () => {
  const s = await startRespServer(LIMITS);
  try {
    const pipeline = Buffer.concat([
      encodeCommand(["SET", "split", "v\r\n1"]),
      Buffer.from("ECHO \"a b\\x41\"\r\nECHO 'c d'\r\n"),
      encodeCommand(["GET", "split"]),
      Buffer.from("*0\r\nPING\n"),
      encodeCommand(["ECHO", Buffer.from([0, 255, 13, 10])]),
    ]);
    const expected: RespValue[] = ["OK", "a bA", "c d", "v\r\n1", "PONG", "\0\xff\r\n"];
    for (let at = 1; at < pipeline.length; at++) {
      const c = await RawClient.connect(s.respPort);
      c.send(pipeline.subarray(0, at));
      await sleep(1);
      c.send(pipeline.subarray(at));
      const replies = await Promise.all(expected.map(() => c.next()));
      assert.deepEqual(replies, expected, `split at ${at}`);
      c.close();
    }
  } finally {
    await s.stop();
  }
});
