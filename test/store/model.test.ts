import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLogbookError, type Store, type StoreOptions } from "../../src/index.js";
import { openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const OPTIONS: StoreOptions = { segmentBytes: 16 * 1024 + 64, batchBytesMax: 16 * 1024, checkpointEveryBytes: 0 };
const keyArb = fc.constantFrom("a", "b", "c", "ab", "abc", "b\u00e9", "z", "");
const valueArb = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.array(fc.boolean(), { maxLength: 3 }),
  fc.constant(null),
);

type Action =
  | { kind: "put"; key: string; value: unknown }
  | { kind: "delete"; key: string }
  | { kind: "cas"; key: string; value: unknown; stale: boolean }
  | { kind: "create"; key: string; value: unknown }
  | {
      kind: "batch";
      ops: ({ type: "put"; key: string; value: unknown } | { type: "delete"; key: string })[];
      guard: string | undefined;
    }
  | { kind: "checkpoint" }
  | { kind: "reopen" };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("put" as const), key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cas" as const), key: keyArb, value: valueArb, stale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("create" as const), key: keyArb, value: valueArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      ops: fc.array(
        fc.oneof(
          fc.record({ type: fc.constant("put" as const), key: keyArb, value: valueArb }),
          fc.record({ type: fc.constant("delete" as const), key: keyArb }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      guard: fc.option(keyArb, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "checkpoint" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

async function scanAll(db: Store): Promise<[string, unknown, number][]> {
  const out: [string, unknown, number][] = [];
  for await (const entry of db.scan()) out.push([entry.key as string, entry.value, entry.version]);
  return out;
}

function modelEntries(model: Map<string, { value: unknown; version: number }>): [string, unknown, number][] {
  const keys = [...model.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return keys.map((k) => [k, model.get(k)?.value, model.get(k)?.version as number]);
}

test("the store always agrees with a Map model across puts, deletes, CAS, batches, checkpoints and reopens", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 40 }), async (actions) => {
      const { path, cleanup } = await tempDir();
      let db = await openStore(path, OPTIONS);
      const model = new Map<string, { value: unknown; version: number }>();
      try {
        for (const action of actions) {
          switch (action.kind) {
            case "put": {
              const version = await db.put(action.key, action.value);
              model.set(action.key, { value: action.value, version });
              break;
            }
            case "delete": {
              await db.delete(action.key);
              model.delete(action.key);
              break;
            }
            case "cas":
            case "create": {
              const current = model.get(action.key)?.version ?? 0;
              const expected = action.kind === "create" ? 0 : action.stale ? current + 1000 : current;
              try {
                const version = await db.put(action.key, action.value, { ifVersion: expected });
                assert.equal(expected, current, "a CAS with the wrong version must fail");
                model.set(action.key, { value: action.value, version });
              } catch (error) {
                assert.ok(isLogbookError(error, "LOGBOOK_CONFLICT"), String(error));
                assert.notEqual(expected, current, "a CAS with the right version must succeed");
                assert.equal(error.currentVersion, current);
              }
              break;
            }
            case "batch": {
              const guardVersion = action.guard === undefined ? 0 : (model.get(action.guard)?.version ?? 0);
              const ifVersions = action.guard === undefined ? undefined : { [action.guard]: guardVersion };
              const version = await db.batch(action.ops, ifVersions === undefined ? {} : { ifVersions });
              for (const op of action.ops) {
                if (op.type === "put") model.set(op.key, { value: op.value, version });
                else model.delete(op.key);
              }
              break;
            }
            case "checkpoint":
              await db.checkpoint();
              break;
            case "reopen":
              await db.close();
              db = await openStore(path, OPTIONS);
              break;
          }
        }
        assert.deepEqual(await scanAll(db), modelEntries(model));
        await db.close();
        db = await openStore(path, OPTIONS);
        assert.deepEqual(await scanAll(db), modelEntries(model), "after a final reopen");
        for (const [key, entry] of model) assert.deepEqual(db.getSync(key), entry);
      } finally {
        await db.close();
        await cleanup();
      }
    }),
    { numRuns: 40 },
  );
});
