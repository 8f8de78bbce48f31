import assert from "node:assert/strict";
import { test } from "node:test";
import { NOT_AN_INTEGER, plain, replies, SYNTAX, withServer } from "./string-support.js";

/** A deterministic byte generator, so a failing fuzz case can be replayed. */
function bytesFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state >>> 24;
  };
}

test("APPEND creates or extends, STRLEN counts bytes", () =>
  withServer(async ({ client }) => {
    assert.deepEqual(
      await replies(client, [
        ["APPEND", "a", "abc"],
        ["APPEND", "a", "def"],
        ["APPEND", "a", ""],
        ["APPEND", "a", Buffer.from([0, 255])],
        ["GET", "a"],
        ["STRLEN", "a"],
        ["STRLEN", "none"],
        ["SET", "i", "-555"],
        ["STRLEN", "i"],
        ["APPEND", "empty", ""],
        ["STRLEN", "empty"],
      ]),
      [3, 6, 6, 8, "abcdef\x00\xff", 8, 0, "OK", 4, 0, 0],
    );
  }));

test("SETRANGE overwrites in place, pads with zero bytes, and leaves a value alone when given nothing", () =>
  withServer(async ({ client }) => {
    assert.deepEqual(
      await replies(client, [
        ["SETRANGE", "k", "0", "foo"],
        ["GET", "k"],
        ["SETRANGE", "k2", "0", ""],
        ["GET", "k2"],
        ["SETRANGE", "k3", "1", "foo"],
        ["GET", "k3"],
        ["SET", "s", "foo"],
        ["SETRANGE", "s", "0", "b"],
        ["SETRANGE", "s", "0", ""],
        ["SETRANGE", "s", "1", "b"],
        ["GET", "s"],
        ["SETRANGE", "s", "4", "bar"],
        ["GET", "s"],
        ["SET", "n", "1234"],
        ["SETRANGE", "n", "5", "2"],
        ["GET", "n"],
        ["SETRANGE", "s", "-1", "x"],
        ["SETRANGE", "s", "x", "x"],
        ["SETRANGE", "s", "2147483647", "x"],
      ]),
      [
        3,
        "foo",
        0,
        null,
        4,
        "\x00foo",
        "OK",
        3,
        3,
        3,
        "bbo",
        7,
        "bbo\x00bar",
        "OK",
        6,
        "1234\x002",
        "-ERR offset is out of range",
        NOT_AN_INTEGER,
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)",
      ],
    );
  }));

test("GETRANGE and SUBSTR take inclusive ranges, negative positions from the end, clamped", () =>
  withServer(async ({ client }) => {
    await client.call("SET", "k", "Hello World");
    const cases: [string, string, string][] = [
      ["0", "3", "Hell"],
      ["0", "-1", "Hello World"],
      ["-4", "-1", "orld"],
      ["5", "3", ""],
      ["5", "5000", " World"],
      ["-5000", "10000", "Hello World"],
      ["-1", "-5", ""],
      ["0", "4294967297", "Hello World"],
      ["-9223372036854775807", "-9223372036854775808", ""],
      ["-9223372036854775808", "-9223372036854775807", "H"],
      ["9223372036854775807", "-1", ""],
    ];
    for (const [start, end, expected] of cases) {
      assert.equal(await client.call("GETRANGE", "k", start, end), expected, `${start} ${end}`);
      assert.equal(await client.call("SUBSTR", "k", start, end), expected, `${start} ${end}`);
    }
    assert.deepEqual(
      await replies(client, [
        ["GETRANGE", "none", "0", "-1"],
        ["SET", "empty", ""],
        ["GETRANGE", "empty", "0", "-1"],
        ["GETRANGE", "k", "x", "1"],
        ["GETRANGE", "k", "1", "1.5"],
      ]),
      ["", "OK", "", NOT_AN_INTEGER, NOT_AN_INTEGER],
    );
  }));

test("GETRANGE fuzzing: random binary values and ranges answer as slicing does", () =>
  withServer(async ({ client }) => {
    const next = bytesFrom(7);
    for (let round = 0; round < 200; round++) {
      const length = (next() << 2) | (next() & 3);
      const value = Buffer.from(Array.from({ length }, next)).toString("latin1");
      const start = (next() << 3) % 1500;
      const end = (next() << 3) % 1500;
      const [, got] = await client.pipeline([
        ["SET", "bin", Buffer.from(value, "latin1")],
        ["GETRANGE", "bin", start, end],
      ]);
      assert.equal(got, start > end ? "" : value.slice(start, end + 1), `${length} ${start} ${end}`);
    }
  }));

test("SETBIT sets and clears bits from the most significant, growing with zero bytes", () =>
  withServer(async ({ client }) => {
    const outOfRange = "-ERR bit offset is not an integer or out of range";
    const notABit = "-ERR bit is not an integer or out of range";
    assert.deepEqual(
      await replies(client, [
        ["SETBIT", "k", "1", "1"],
        ["GET", "k"],
        ["SET", "k", "@"],
        ["SETBIT", "k", "2", "1"],
        ["GET", "k"],
        ["SETBIT", "k", "1", "0"],
        ["GET", "k"],
        ["SET", "i", "1"],
        ["SETBIT", "i", "6", "1"],
        ["SETBIT", "i", "2", "0"],
        ["GET", "i"],
        ["SETBIT", "z", "20", "0"],
        ["GET", "z"],
        ["SETBIT", "z", "3", "0"],
        ["SETBIT", "k", String(4 * 1024 * 1024 * 1024), "1"],
        ["SETBIT", "k", "-1", "1"],
        ["SETBIT", "k", "x", "1"],
        ["SETBIT", "k", "0", "-1"],
        ["SETBIT", "k", "0", "2"],
        ["SETBIT", "k", "0", "10"],
        ["SETBIT", "k", "0", "01"],
        ["SETBIT", "k", "0", "x"],
      ]),
      [
        0,
        "\x40",
        "OK",
        0,
        "\x60",
        1,
        "\x20",
        "OK",
        0,
        1,
        "\x13",
        0,
        "\x00\x00\x00",
        0,
        outOfRange,
        outOfRange,
        outOfRange,
        notABit,
        notABit,
        notABit,
        notABit,
        notABit,
      ],
    );
  }));

test("SETBIT fuzzing: every bit set or cleared matches a bit array", () =>
  withServer(async ({ client }) => {
    const next = bytesFrom(11);
    const bits = new Uint8Array(256);
    let length = 0;
    for (let round = 0; round < 500; round++) {
      const offset = ((next() << 8) | next()) % (256 * 8);
      const on = next() & 1;
      const byte = offset >> 3;
      const mask = 1 << (7 - (offset & 7));
      const was = (bits[byte] as number) & mask ? 1 : 0;
      bits[byte] = on ? (bits[byte] as number) | mask : (bits[byte] as number) & ~mask;
      length = Math.max(length, byte + 1);
      const [old, value] = await client.pipeline([
        ["SETBIT", "fuzz", offset, on],
        ["GET", "fuzz"],
      ]);
      assert.equal(old, was);
      assert.equal(value, Buffer.from(bits.subarray(0, length)).toString("latin1"));
    }
  }));

test("GETBIT reads bits, 0 past the end and for an absent key", () =>
  withServer(async ({ client }) => {
    await client.call("SET", "s", "`");
    await client.call("SET", "i", "1");
    const offsets = ["0", "1", "2", "3", "8", "100", "10000"];
    assert.deepEqual(
      await replies(
        client,
        offsets.map((offset) => ["GETBIT", "s", offset]),
      ),
      [0, 1, 1, 0, 0, 0, 0],
    );
    assert.deepEqual(
      await replies(
        client,
        offsets.map((offset) => ["GETBIT", "i", offset]),
      ),
      [0, 0, 1, 1, 0, 0, 0],
    );
    assert.deepEqual(
      await replies(client, [
        ["GETBIT", "none", "3"],
        ["GETBIT", "s", "-1"],
        ["GETBIT", "s", "99999999999999999999"],
        ["GETBIT", "s", String(8 * 4 * 1024 * 1024)],
      ]),
      [
        0,
        "-ERR bit offset is not an integer or out of range",
        "-ERR bit offset is not an integer or out of range",
        "-ERR bit offset is not an integer or out of range",
      ],
    );
  }));

const RNA1 =
  "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
const RNA2 =
  "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
const RNA_LCS =
  "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

test("LCS answers the subsequence, its length, or its matching ranges as Redis does", () =>
  withServer(async ({ client }) => {
    await client.pipeline([
      ["SET", "virus1", RNA1],
      ["SET", "virus2", RNA2],
      ["SET", "a", "ohmytext"],
      ["SET", "b", "mynewtext"],
    ]);
    const ranges = [
      [[238, 238], [239, 239], 1],
      [[236, 236], [238, 238], 1],
      [[229, 230], [236, 237], 2],
      [[224, 224], [235, 235], 1],
      [[1, 222], [13, 234], 222],
    ] as const;
    assert.deepEqual(
      await replies(client, [
        ["LCS", "virus1", "virus2"],
        ["LCS", "virus1", "virus2", "LEN"],
        ["LCS", "virus1", "virus2", "IDX"],
        ["LCS", "virus1", "virus2", "IDX", "WITHMATCHLEN"],
        ["LCS", "virus1", "virus2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "5"],
        ["LCS", "a", "b"],
        ["LCS", "a", "b", "idx", "minmatchlen", "-3", "withmatchlen"],
        ["LCS", "a", "none"],
        ["LCS", "none", "none2", "IDX"],
      ]),
      [
        RNA_LCS,
        RNA_LCS.length,
        ["matches", ranges.map(([x, y]) => [x, y]), "len", RNA_LCS.length],
        ["matches", ranges, "len", RNA_LCS.length],
        ["matches", [ranges[4]], "len", RNA_LCS.length],
        "mytext",
        [
          "matches",
          [
            [[4, 7], [5, 8], 4],
            [[2, 3], [0, 1], 2],
          ],
          "len",
          6,
        ],
        "",
        ["matches", [], "len", 0],
      ],
    );
    assert.deepEqual(
      await replies(client, [
        ["LCS", "a", "b", "IDX", "LEN"],
        ["LCS", "a", "b", "FOO"],
        ["LCS", "a", "b", "MINMATCHLEN"],
        ["LCS", "a", "b", "MINMATCHLEN", "x"],
        ["LCS", "a"],
      ]),
      [
        "-ERR If you want both the length and indexes, please just use IDX.",
        SYNTAX,
        SYNTAX,
        NOT_AN_INTEGER,
        "-ERR wrong number of arguments for 'lcs' command",
      ],
    );
  }));

test("LCS refuses a table larger than the longest bulk string", () =>
  withServer(
    async ({ client }) => {
      await client.pipeline([
        ["SET", "x", "a".repeat(99)],
        ["SET", "y", "a".repeat(249)],
        ["SET", "z", "a".repeat(250)],
      ]);
      assert.equal(await client.call("LCS", "x", "y", "LEN"), 99);
      assert.equal(
        plain(await client.call("LCS", "x", "z", "LEN")),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
      );
    },
    { respBulkBytesMax: 100_000 },
  ));
