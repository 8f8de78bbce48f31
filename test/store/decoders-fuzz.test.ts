import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLogbookError } from "../../src/index.js";
import { writeCheckpoint } from "../../src/store/checkpoint.js";
import { readCheckpoint } from "../../src/store/checkpoint-reader.js";
import { readManifest, writeManifest } from "../../src/store/manifest.js";
import { encodeOperations, visitOperations } from "../../src/store/operation.js";
import { SortedState, storedValue, storedVersion, toStored } from "../../src/store/state.js";
import { SimulatedDisk } from "../../src/testing/index.js";

const DIR = "/store";

/** Applies one mutation to a file's bytes: flip bits, overwrite with junk, cut, or extend. */
const mutationArb = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
    count: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("junk" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("extend" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(original: Uint8Array, mutation: Mutation): Uint8Array {
  const bytes = original.slice();
  if (mutation.kind === "flip") {
    for (let i = 0; i < mutation.count; i++) {
      const at = (mutation.at + i * 7919) % bytes.length;
      bytes[at] = (bytes[at] ?? 0) ^ (1 << mutation.bit);
    }
    return bytes;
  }
  if (mutation.kind === "junk") {
    const at = mutation.at % bytes.length;
    bytes.set(mutation.bytes.subarray(0, bytes.length - at), at);
    return bytes;
  }
  if (mutation.kind === "cut") return bytes.slice(0, mutation.at % bytes.length);
  const longer = new Uint8Array(bytes.length + mutation.bytes.length);
  longer.set(bytes);
  longer.set(mutation.bytes, bytes.length);
  return longer;
}

function entriesOf(state: SortedState): [string, string, number][] {
  return [...state.entries(undefined, false)].map(([key, stored]) => [key, storedValue(stored), storedVersion(stored)]);
}

test("a mutated checkpoint file is refused with LOGBOOK_CORRUPTION or loads exactly what was written", async () => {
  const disk = new SimulatedDisk(7);
  await disk.view().mkdir(DIR);
  const state = SortedState.empty();
  for (let i = 0; i < 300; i++) state.set(`key-${String(i).padStart(4, "0")}`, toStored("v".repeat(i % 50), i + 1));
  const info = await writeCheckpoint(disk.view(), DIR, state, 400, Date.now());
  const path = `${DIR}/${info.file}`;
  const original = disk.readFile(path);
  const expected = entriesOf(state);
  let refused = 0;
  let loadedIntact = 0;
  await fc.assert(
    fc.asyncProperty(mutationArb, async (mutation) => {
      const mutated = mutate(original, mutation);
      disk.replaceFile(path, mutated);
      try {
        const loaded = await readCheckpoint(disk.view(), path);
        assert.deepEqual(entriesOf(loaded.state), expected, "a checkpoint that loads is the one written");
        assert.equal(loaded.lsn, 400);
        loadedIntact++;
      } catch (error) {
        assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"), String(error));
        refused++;
      }
    }),
    { numRuns: 500 },
  );
  assert.ok(refused > 400, `only ${refused} of 500 mutations refused`);
  console.log(
    `# fuzz: checkpoint mutations: ${refused} refused, ${loadedIntact} loaded intact (flips that cancel out, junk equal to what was there)`,
  );
});

test("a mutated manifest is refused with LOGBOOK_CORRUPTION or reads back unchanged", async () => {
  const disk = new SimulatedDisk(8);
  await disk.view().mkdir(DIR);
  const manifest = { format: 1, checkpoints: [{ file: "checkpoint-00000000000000000009.dat", lsn: 9, entries: 3, bytes: 200 }] };
  await writeManifest(disk.view(), DIR, manifest);
  const original = disk.readFile(`${DIR}/MANIFEST`);
  await fc.assert(
    fc.asyncProperty(mutationArb, async (mutation) => {
      disk.replaceFile(`${DIR}/MANIFEST`, mutate(original, mutation));
      try {
        assert.deepEqual(await readManifest(disk.view(), DIR), manifest);
      } catch (error) {
        assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"), String(error));
      }
    }),
    { numRuns: 300 },
  );
});

test("random and mutated operation records decode exactly or fail with LOGBOOK_CORRUPTION, visiting nothing", () => {
  const valid = encodeOperations([
    { type: "put", key: "a", value: "1" },
    { type: "delete", key: "b" },
    { type: "put", key: "c", value: "three" },
    { type: "put", key: "d", value: "4", expiresAt: 1_700_000_000_000 },
    { type: "expire", key: "d", expiresAt: 0 },
    { type: "deleteRange", key: "e", lt: "f" },
  ]);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        mutationArb.map((m) => mutate(valid, m)),
      ),
      (bytes) => {
        const visited: string[] = [];
        try {
          visitOperations(bytes, 1, {
            put: (b, keyStart, keyEnd, start, end) =>
              visited.push(`put ${b.toString("latin1", keyStart, keyEnd)}=${b.toString("latin1", start, end)}`),
            delete: (b, keyStart, keyEnd) => visited.push(`delete ${b.toString("latin1", keyStart, keyEnd)}`),
            stream: (b, keyStart, keyEnd, start, end) =>
              visited.push(`stream ${b.toString("latin1", keyStart, keyEnd)}:${b.toString("latin1", start, end)}`),
            expire: (b, keyStart, keyEnd, expiresAt) =>
              visited.push(`expire ${b.toString("latin1", keyStart, keyEnd)}@${expiresAt}`),
            deleteRange: (b, gteStart, gteEnd, ltStart, ltEnd) =>
              visited.push(`range ${b.toString("latin1", gteStart, gteEnd)}..${b.toString("latin1", ltStart, ltEnd)}`),
          });
        } catch (error) {
          assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"), String(error));
          assert.deepEqual(visited, [], "a malformed record applies nothing");
        }
      },
    ),
    { numRuns: 3000 },
  );
});
