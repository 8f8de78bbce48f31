/**
 * The RESP request parser on its own: the commands of a pipeline come out the same however the
 * bytes are split into chunks; a large bulk string is assembled across chunks; inline commands
 * split as Redis's sdssplitargs splits them; every limit is a ProtocolError with Redis's text;
 * and slow or lying senders cost time and memory in proportion to what they actually send.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ParserLimits, ProtocolError, RequestParser, splitInline } from "../../src/server/resp/parser.js";
import { encodeCommand } from "../support/resp.js";

const LIMITS: ParserLimits = { bulkBytesMax: 8 * 1024 * 1024, multibulkCountMax: 1024 * 1024, inlineBytesMax: 64 * 1024 };

/** Feeds `chunks` to a fresh parser; returns the commands (as latin1 args) and their byte counts. */
function parse(chunks: Buffer[], limits = LIMITS, authRequired = false): { commands: string[][]; bytes: number[] } {
  const parser = new RequestParser(limits, () => authRequired);
  const commands: string[][] = [];
  const bytes: number[] = [];
  for (const chunk of chunks) {
    parser.feed(chunk, (args, size) => {
      commands.push(args);
      bytes.push(size);
    });
  }
  assert.equal(parser.bufferedBytes, 0, "every byte of a whole pipeline is consumed");
  return { commands, bytes };
}

function latin1(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** A parse that must fail: the ProtocolError's message. */
function protocolError(chunks: Buffer[], limits = LIMITS, authRequired = false): string {
  try {
    parse(chunks, limits, authRequired);
  } catch (error) {
    assert.ok(error instanceof ProtocolError, String(error));
    return error.message;
  }
  assert.fail("no protocol error");
}

const PIPELINE: string[][] = [
  ["SET", "key", "value"],
  ["GET", "key"],
  ["SET", "empty", ""],
  ["SET", "crlf\r\n", "a\r\nb\r\n"],
  ["ECHO", "é ü \u0000 \xff"],
  ["MSET", "a", "1", "b", "2", "c", "3"],
];
const INLINE = "PING\r\nSET \"a b\" 'c d'\nECHO x\r\n\r\n";
const PIPELINE_BYTES = Buffer.concat([
  ...PIPELINE.map(encodeCommand),
  Buffer.from(INLINE),
  Buffer.from("*0\r\n*-1\r\n"),
  encodeCommand(["GET", "last"]),
]);
const EXPECTED = [...PIPELINE.map((args) => args.map(latin1)), ["PING"], ["SET", "a b", "c d"], ["ECHO", "x"], ["GET", "last"]];

describe("splitting", () => {
  test("a pipeline split at any one byte boundary yields the same commands, with the same byte counts", () => {
    const whole = parse([PIPELINE_BYTES]);
    assert.deepEqual(whole.commands, EXPECTED);
    for (let at = 0; at <= PIPELINE_BYTES.length; at++) {
      const split = parse([PIPELINE_BYTES.subarray(0, at), PIPELINE_BYTES.subarray(at)]);
      assert.deepEqual(split.commands, EXPECTED, `split at ${at}`);
      assert.deepEqual(split.bytes, whole.bytes, `split at ${at}`);
    }
  });

  test("a pipeline fed a byte at a time, or in random chunks, yields the same commands", () => {
    const bytes = [...PIPELINE_BYTES].map((byte) => Buffer.from([byte]));
    assert.deepEqual(parse(bytes).commands, EXPECTED);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: PIPELINE_BYTES.length }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const point of [...points, PIPELINE_BYTES.length]) {
          chunks.push(PIPELINE_BYTES.subarray(from, point));
          from = point;
        }
        assert.deepEqual(parse(chunks).commands, EXPECTED);
      }),
      { seed: 26, numRuns: 300 },
    );
  });

  test("byte counts add up to the pipeline's length, less the skipped empty commands", () => {
    const { bytes } = parse([PIPELINE_BYTES]);
    const skipped = "*0\r\n*-1\r\n\r\n".length;
    assert.equal(
      bytes.reduce((sum, n) => sum + n, 0),
      PIPELINE_BYTES.length - skipped,
    );
  });

  test("large bulk strings are assembled across chunks of any size, around the large-bulk threshold too", () => {
    for (const size of [16 * 1024 - 2, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 200_000, 3 * 1024 * 1024 + 7]) {
      const value = Buffer.alloc(size);
      for (let i = 0; i < size; i++) value[i] = (i * 31 + 7) & 0xff;
      const bytes = Buffer.concat([encodeCommand(["SET", "k", value]), encodeCommand(["GET", "k"])]);
      for (const chunkSize of [1000, 16 * 1024, 65_536, 100_003]) {
        if (chunkSize === 1000 && size > 1_000_000) continue;
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
        const { commands } = parse(chunks);
        assert.equal(commands.length, 2);
        assert.equal(commands[0]?.[2], value.toString("latin1"), `size ${size}, chunks of ${chunkSize}`);
        assert.deepEqual(commands[1], ["GET", "k"]);
      }
    }
  });

  test("arguments do not share memory with the chunks they came in (a chunk may be reused)", () => {
    const parser = new RequestParser(LIMITS);
    const seen: string[][] = [];
    const chunk = Buffer.from(encodeCommand(["SET", "k", "v1"]));
    parser.feed(chunk, (args) => seen.push(args));
    chunk.fill(0);
    assert.deepEqual(seen, [["SET", "k", "v1"]]);
  });
});

describe("inline commands split as sdssplitargs", () => {
  const cases: [string, string[] | undefined][] = [
    ["", []],
    ["   ", []],
    ["PING", ["PING"]],
    ["  set   a   b  ", ["set", "a", "b"]],
    ["set\ta\tb", ["set", "a", "b"]],
    ['set "foo bar" baz', ["set", "foo bar", "baz"]],
    ["set 'foo bar' baz", ["set", "foo bar", "baz"]],
    ['"\\x41\\x42\\x4a\\x4A"', ["ABJJ"]],
    ['"\\x4"', ["x4"]],
    ['"\\xZZ"', ["xZZ"]],
    ['"a\\nb\\rc\\td\\be\\af"', ["a\nb\rc\td\be\x07f"]],
    ['"\\"quoted\\""', ['"quoted"']],
    ['"\\\\"', ["\\"]],
    ['"\\q"', ["q"]],
    ["'it\\'s'", ["it's"]],
    ["'a\\nb'", ["a\\nb"]],
    ['""', [""]],
    ["''", [""]],
    ['"" ""', ["", ""]],
    ['ab"cd ef"', ["abcd ef"]],
    ["ab'cd ef'", ["abcd ef"]],
    ['"a"b', undefined],
    ["'a'b", undefined],
    ['"unterminated', undefined],
    ["'unterminated", undefined],
    ['"ends with backslash\\', undefined],
    ['"a" "b', undefined],
    ["a\vb \fc", ["a\vb", "c"]],
    ["\v a", ["a"]],
    ['"a"\vb', ["a", "b"]],
    ["a\0b c", ["a"]],
    ['"a\0b"', undefined],
    ["\0", []],
    ["é \xff", ["é", "\xff"]],
  ];
  for (const [line, words] of cases) {
    test(`${JSON.stringify(line)} → ${JSON.stringify(words)}`, () => {
      assert.deepEqual(splitInline(line), words);
    });
  }

  test("an inline line ends at \\n, with or without \\r before it", () => {
    assert.deepEqual(parse([Buffer.from("ECHO a\nECHO b\r\n\nECHO c\r\n")]).commands, [
      ["ECHO", "a"],
      ["ECHO", "b"],
      ["ECHO", "c"],
    ]);
  });

  test("unbalanced quotes are a protocol error", () => {
    assert.equal(protocolError([Buffer.from('SET "a b\r\n')]), "Protocol error: unbalanced quotes in request");
  });
});

describe("limits", () => {
  test("multibulk counts and bulk lengths are read as Redis reads them", () => {
    const invalidCount = "Protocol error: invalid multibulk length";
    const invalidLength = "Protocol error: invalid bulk length";
    assert.equal(protocolError([Buffer.from("*abc\r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*\r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*01\r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*+1\r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*1 \r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*2000000\r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*20000000000000000000\r\n")]), invalidCount);
    assert.equal(protocolError([Buffer.from("*1\r\n$-1\r\n")]), invalidLength);
    assert.equal(protocolError([Buffer.from("*1\r\n$-2\r\n")]), invalidLength);
    assert.equal(protocolError([Buffer.from("*1\r\n$x\r\n")]), invalidLength);
    assert.equal(protocolError([Buffer.from("*1\r\n$\r\n")]), invalidLength);
    assert.equal(protocolError([Buffer.from("*1\r\n$8388609\r\n")]), invalidLength);
    assert.equal(protocolError([Buffer.from("*1\r\nPING\r\n")]), "Protocol error: expected '$', got 'P'");
    assert.equal(protocolError([Buffer.from(`*1${"1".repeat(40)}`)]), "Protocol error: too big mbulk count string");
    assert.equal(protocolError([Buffer.from(`*1\r\n$1${"1".repeat(40)}`)]), "Protocol error: too big bulk count string");
    // Empty and negative counts are empty commands: skipped, as Redis skips them.
    assert.deepEqual(parse([Buffer.from("*0\r\n*-5\r\n*-1\r\nPING\r\n")]).commands, [["PING"]]);
  });

  test("an inline line past inlineBytesMax is refused, complete or not", () => {
    const limits = { ...LIMITS, inlineBytesMax: 100 };
    assert.equal(protocolError([Buffer.from("A".repeat(101))], limits), "Protocol error: too big inline request");
    assert.equal(protocolError([Buffer.from(`${"A".repeat(101)}\r\n`)], limits), "Protocol error: too big inline request");
    assert.deepEqual(parse([Buffer.from(`${"A".repeat(100)}\r\n`)], limits).commands, [["A".repeat(100)]]);
  });

  test("before AUTH, commands have at most 10 arguments of 16 KiB, as in Redis", () => {
    assert.equal(protocolError([Buffer.from("*11\r\n")], LIMITS, true), "Protocol error: unauthenticated multibulk length");
    assert.equal(protocolError([Buffer.from("*1\r\n$16385\r\n")], LIMITS, true), "Protocol error: unauthenticated bulk length");
    const ten = encodeCommand(["AUTH", ...Array.from({ length: 8 }, () => "x"), "a".repeat(16 * 1024)]);
    assert.equal(parse([ten], LIMITS, true).commands.length, 1);
  });

  test("a declared bulk length costs memory only as its bytes arrive", () => {
    const parser = new RequestParser(LIMITS);
    parser.feed(Buffer.from("*2\r\n$3\r\nSET\r\n$8000000\r\nabc"), () => assert.fail("nothing is complete"));
    assert.ok(parser.heldBytes <= 128 * 1024, `${parser.heldBytes} bytes held for a bulk with 3 bytes sent`);
    parser.feed(Buffer.alloc(1_000_000, 1), () => assert.fail("nothing is complete"));
    assert.ok(parser.heldBytes <= 2_100_000, `${parser.heldBytes} bytes held for a bulk with 1 MB sent`);
  });

  test("a line sent a byte at a time costs time in proportion to its length", () => {
    // 200 KB a byte at a time: well under a second when linear; tens of seconds if each byte re-copied or re-scanned the line.
    const parser = new RequestParser({ ...LIMITS, inlineBytesMax: 256 * 1024 });
    const line = Buffer.from(`ECHO ${"x".repeat(200_000)}\r\n`);
    const started = performance.now();
    let got: string[] | undefined;
    for (let i = 0; i < line.length; i++) parser.feed(line.subarray(i, i + 1), (args) => (got = args));
    const ms = performance.now() - started;
    assert.equal(got?.[1]?.length, 200_000);
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms for 200 KB a byte at a time`);
  });
});
