/**
 * The Redis command log line is the line pino itself would write for the same fields, built
 * without pino's walk of an object: same format, same order, escaped where needed; a level
 * above info writes nothing; a multistream destination gets its lines through pino.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { pino } from "pino";
import { CommandLog } from "../../../src/server/telemetry/command-log.js";

function capture(level = "info"): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((line) => line !== ""),
      );
      done();
    },
  });
  return { lines, logger: pino({ level, base: { service: "logbook" } }, stream) };
}

test("a command's line is pino's line for the same fields, keys in the same order", () => {
  const direct = capture();
  const viaPino = capture();
  const cases: [string, number, string, string | undefined, number, string | undefined, string | undefined][] = [
    ["get", 1, "127.0.0.1:5000", "acme", 0.000123456, undefined, undefined],
    ["set", 2, "[::1]:5001", undefined, 0.5, "WRONGTYPE", "0af7651916cd43dd8448eb211c80319c"],
    ["auth", 3, 'odd "address"\n\u00e9', "t.e-n_a", 0, "ERR", undefined],
  ];
  for (const [command, clientId, address, tenantId, seconds, error, traceId] of cases) {
    new CommandLog(direct.logger).write(command, clientId, address, tenantId, seconds, error, traceId);
    viaPino.logger.info(
      { command, clientId, client: address, tenantId, latencyMs: Math.round(seconds * 1_000_000) / 1000, error, traceId },
      "command",
    );
  }
  assert.equal(direct.lines.length, cases.length);
  for (const [i, line] of direct.lines.entries()) {
    const mine = JSON.parse(line);
    const theirs = JSON.parse(viaPino.lines[i] as string);
    mine.time = theirs.time;
    assert.deepEqual(Object.entries(mine), Object.entries(theirs));
  }
});

test("above info nothing is written; a multistream gets its lines through pino", () => {
  const quiet = capture("warn");
  new CommandLog(quiet.logger).write("get", 1, "a", "t", 0, undefined, undefined);
  assert.deepEqual(quiet.lines, []);
  const lines: string[] = [];
  const multi = pino.multistream([{ stream: { write: (line: string) => void lines.push(line) } }]);
  new CommandLog(pino({ base: undefined }, multi)).write("get", 1, "a", "t", 0.001, undefined, undefined);
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0] as string).command, "get");
});
