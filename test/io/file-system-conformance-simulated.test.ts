/**
 * The FileSystem conformance suite on a view of the simulated disk (src/testing), no faults
 * injected; and what only the simulated disk can show: what a truncate leaves after a power cut.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SimulatedDisk } from "../../src/testing/index.js";
import { fileSystemConformance } from "./file-system-conformance.js";

const SEED = 1;
const ROOT = "/conformance";

fileSystemConformance({
  name: "SimulatedDisk view",
  descriptors: false,
  setup: async () => {
    const fileSystem = new SimulatedDisk(SEED).view();
    await fileSystem.mkdir(ROOT);
    return { fileSystem, root: ROOT, cleanup: async () => undefined };
  },
});

test("simulated disk: a file cut, grown back and fdatasynced holds zeros where the cut bytes were, after a power cut", async () => {
  const disk = new SimulatedDisk(SEED);
  const fs = disk.view();
  await fs.mkdir(ROOT);
  const path = `${ROOT}/a.log`;
  const handle = await fs.open(path, "create");
  await handle.write(new Uint8Array(2048).fill(0xaa), 0, { datasync: true });
  await fs.syncDirectory(ROOT);
  await handle.truncate(100);
  await handle.truncate(2048);
  await handle.datasync();
  disk.crash("lose-all");
  const after = await disk.view().open(path, "read");
  const buffer = new Uint8Array(4096);
  assert.equal(await after.read(buffer, 0), 2048);
  assert.ok(buffer.subarray(0, 100).every((byte) => byte === 0xaa));
  assert.ok(buffer.subarray(100, 2048).every((byte) => byte === 0));
});

test("simulated disk: a cut made durable by fdatasync survives a power cut; one not synced may be undone", async () => {
  const disk = new SimulatedDisk(SEED);
  const fs = disk.view();
  await fs.mkdir(ROOT);
  const path = `${ROOT}/a.log`;
  const handle = await fs.open(path, "create");
  await handle.write(new Uint8Array(2048).fill(0xaa), 0, { datasync: true });
  await fs.syncDirectory(ROOT);
  await handle.truncate(1000);
  disk.crash("lose-all");
  const undone = await disk.view().open(path, "write");
  assert.equal(await undone.sizeBytes(), 2048, "an unsynced truncate is lost with the cache");
  await undone.truncate(1000);
  await undone.datasync();
  disk.crash("lose-all");
  assert.equal(await (await disk.view().open(path, "read")).sizeBytes(), 1000);
});
