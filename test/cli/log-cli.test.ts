import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Log } from "../../src/index.js";
import { FRAME_HEADER_BYTES, RECORD_HEADER_BYTES, recordBytes, SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { flipBit, segmentFiles, zeroRange } from "../support/surgery.js";
import { bytes, tempDir } from "../support/temp.js";

// The CLI is tested as users run it: the built executable (npm test builds first).
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const FRAME_BYTES = FRAME_HEADER_BYTES + recordBytes(10);

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("logbook log CLI", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
    await using log = await Log.open(dir, { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 });
    for (let i = 1; i <= 5; i++) await log.append(bytes(`record-${i}`.padEnd(10, "_")));
  });
  afterEach(async () => {
    await cleanup();
  });

  test("inspect shows segments and LSN ranges, as text and as JSON", () => {
    const human = run("log", "inspect", dir);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /LSNs 1\.\.5 \(5 records\)/);
    const json = JSON.parse(run("log", "inspect", dir, "--json").stdout);
    assert.equal(json.lastLsn, 5);
    assert.equal(json.segments.length, 1);
    assert.match(json.logId, /^[0-9a-f]{32}$/);
  });

  test("dump prints records from an LSN, with payloads in base64 in JSON", () => {
    const lines = run("log", "dump", dir, "--from", "4", "--json")
      .stdout.trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((line) => line.lsn),
      [4, 5],
    );
    assert.equal(Buffer.from(lines[0].payloadBase64, "base64").toString(), "record-4__");
    assert.match(run("log", "dump", dir, "--limit", "1").stdout, /^1\t10\t"record-1__"\n$/);
  });

  test("verify exits 0 on a clean log, 1 with file and offset on corruption, 3 on a torn tail", async () => {
    assert.equal(run("log", "verify", dir).code, 0);
    const [segment] = await segmentFiles(dir);
    // A torn write leaves sectors of old bytes (zeros here), not one flipped bit.
    await zeroRange(segment as string, SEGMENT_HEADER_BYTES + FRAME_BYTES * 4 + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES, 4);
    const torn = run("log", "verify", dir, "--json");
    assert.equal(torn.code, 3);
    assert.equal(JSON.parse(torn.stdout).status, "torn-tail");
    await flipBit(segment as string, SEGMENT_HEADER_BYTES + FRAME_BYTES + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES);
    const corrupt = run("log", "verify", dir, "--json");
    assert.equal(corrupt.code, 1);
    const report = JSON.parse(corrupt.stdout);
    assert.equal(report.file, segment);
    assert.equal(report.offset, SEGMENT_HEADER_BYTES + FRAME_BYTES);
  });

  test("repair is a dry run unless --yes, and keeps the original bytes aside", async () => {
    const [segment] = await segmentFiles(dir);
    await zeroRange(segment as string, SEGMENT_HEADER_BYTES + FRAME_BYTES * 4 + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES, 4);
    const before = await readFile(segment as string);
    const dry = run("log", "repair", dir);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would cut a torn tail/);
    assert.deepEqual(await readFile(segment as string), before, "a dry run changes nothing");
    const real = run("log", "repair", dir, "--yes", "--json");
    assert.equal(real.code, 0, real.stderr);
    assert.equal(JSON.parse(real.stdout).lastLsn, 4);
    assert.ok((await readdir(dir)).some((name) => name.endsWith(".broken")));
    assert.equal(run("log", "verify", dir).code, 0);
  });

  test("every command has --help, and bad input gets a clear error and a non-zero exit", () => {
    for (const command of [[], ["log"], ["log", "inspect"], ["log", "dump"], ["log", "verify"], ["log", "repair"], ["serve"]]) {
      const help = run(...command, "--help");
      assert.equal(help.code, 0, command.join(" "));
      assert.match(help.stdout, /Usage: logbook/);
    }
    const missing = run("log", "inspect", `${dir}/nothing-here`);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /LOGBOOK_NOT_FOUND/);
    const badLsn = run("log", "dump", dir, "--from", "minus-one");
    assert.equal(badLsn.code, 2);
    assert.match(badLsn.stderr, /LOGBOOK_INVALID_LSN/);
    assert.notEqual(run("log", "frobnicate", dir).code, 0);
    assert.equal(run("log", "repair", dir, "--mode", "salvage").code, 2);
  });
});
