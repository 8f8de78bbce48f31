/**
 * The deterministic per-worker workload of the store crash test, shared by the child that
 * runs it and the parent that checks what survived.
 */
import type { StoreOptions } from "../../src/index.js";

export const STORE_CRASH_OPTIONS: StoreOptions = {
  segmentBytes: 32 * 1024,
  batchBytesMax: 16 * 1024,
  checkpointEveryBytes: 8 * 1024,
};

export type WorkloadOperation =
  | { kind: "put"; key: string; value: unknown }
  | { kind: "delete"; key: string }
  | { kind: "batch"; ops: ({ type: "put"; key: string; value: unknown } | { type: "delete"; key: string })[] }
  | { kind: "increment"; key: string };

/** A small deterministic hash: the same (round, worker, index) always gives the same operation. */
function mix(a: number, b: number, c: number): number {
  let h = (a * 0x9e3779b1) ^ (b * 0x85ebca77) ^ (c * 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

export function operationFor(round: number, worker: number, index: number): WorkloadOperation {
  const h = mix(round + 1, worker + 1, index + 1);
  const key = (n: number) => `w${worker}-k${n % 6}`;
  const value = { round, worker, index, pad: "x".repeat(h % 200) };
  switch (h % 8) {
    case 0:
    case 1:
    case 2:
      return { kind: "put", key: key(h >>> 3), value };
    case 3:
      return { kind: "delete", key: key(h >>> 3) };
    case 4:
    case 5:
      return {
        kind: "batch",
        ops: [
          { type: "put", key: key(h >>> 3), value },
          { type: "put", key: key((h >>> 3) + 1), value },
          { type: "delete", key: key((h >>> 3) + 2) },
        ],
      };
    default:
      return { kind: "increment", key: `w${worker}-counter` };
  }
}

export type ModelState = Map<string, unknown>;

/** Applies one operation to a model of a worker's keys. */
export function applyToModel(model: ModelState, op: WorkloadOperation): void {
  if (op.kind === "put") model.set(op.key, op.value);
  else if (op.kind === "delete") model.delete(op.key);
  else if (op.kind === "batch") {
    for (const o of op.ops) {
      if (o.type === "put") model.set(o.key, o.value);
      else model.delete(o.key);
    }
  } else model.set(op.key, ((model.get(op.key) as number | undefined) ?? 0) + 1);
}
