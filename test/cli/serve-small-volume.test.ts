/**
 * `logbook serve` on a small volume (a 50 MB ext4 file system on a loop device): with the
 * default 64 MiB segments it refuses at startup, before creating anything, with
 * LOGBOOK_NO_SPACE naming the space it needs; with `segmentBytes` and `preallocate` set
 * (flag, environment or config file) it serves. Needs root for the loop mount; skipped
 * otherwise. Runs the built CLI (npm run build).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { call } from "../support/server.js";
import { finished, killProcess, runCli, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

const VOLUME_BYTES = 50 * 1024 * 1024;
const SMALL_SEGMENT_BYTES = 8 * 1024 * 1024;
const STARTUP_WAIT_MS = 30_000;

function loopUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: a loop mount needs root";
  for (const tool of ["mkfs.ext4", "mount", "umount"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

const skip = loopUnavailable();
let root: string;
let mountPoint: string;
let mounted = false;
let cleanup: () => Promise<void>;

before(async () => {
  if (skip !== undefined) return;
  const temp = await tempDir("logbook-small-volume-");
  root = temp.path;
  cleanup = temp.cleanup;
  const image = join(root, "volume.img");
  mountPoint = join(root, "mnt");
  mkdirSync(mountPoint);
  execFileSync("truncate", ["-s", String(VOLUME_BYTES), image]);
  execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "pipe" });
  execFileSync("mount", ["-o", "loop", image, mountPoint], { stdio: "pipe" });
  mounted = true;
});

after(async () => {
  if (mounted) execFileSync("umount", [mountPoint], { stdio: "pipe" });
  await cleanup?.();
});

function usedBytes(): number {
  const space = statfsSync(mountPoint);
  return (space.blocks - space.bfree) * space.bsize;
}

test("on a volume smaller than a segment, serve refuses with LOGBOOK_NO_SPACE naming the need and leaves nothing behind", {
  skip,
}, async () => {
  const usedBefore = usedBytes();
  const child = runCli(["serve", "--data-dir", join(mountPoint, "data"), "--host", "127.0.0.1", "--port", "0"]);
  const timer = setTimeout(() => child.kill("SIGKILL"), STARTUP_WAIT_MS);
  const run = await finished(child).finally(() => clearTimeout(timer));
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, /^logbook: .+ \[LOGBOOK_NO_SPACE\]\n$/);
  assert.match(run.stderr, /needs \d+ bytes free \(a segment of 67108864 bytes/, "names the space it needs");
  assert.match(run.stderr, /--segment-bytes/, "says which setting lowers the need");
  assert.deepEqual(readdirSync(mountPoint).sort(), ["lost+found"], "no data directory, no partial segment");
  assert.ok(usedBytes() - usedBefore < 1024 * 1024, `${usedBytes() - usedBefore} bytes were left in use`);
});

test("with segmentBytes and preallocate set by flag, environment or config file, serve runs on the small volume", {
  skip,
}, async () => {
  const configFile = join(root, "config.json");
  writeFileSync(configFile, JSON.stringify({ segmentBytes: SMALL_SEGMENT_BYTES, preallocate: false }));
  const ways: [string, string[], Record<string, string>][] = [
    ["flags", ["--segment-bytes", String(SMALL_SEGMENT_BYTES), "--preallocate", "false"], {}],
    ["environment", [], { LOGBOOK_SEGMENT_BYTES: String(SMALL_SEGMENT_BYTES), LOGBOOK_PREALLOCATE: "false" }],
    ["config file", ["--config", configFile], {}],
  ];
  for (const [way, args, env] of ways) {
    const dataDir = join(mountPoint, `data-${way.replace(" ", "-")}`);
    const server = await startServerProcess(["--data-dir", dataDir, ...args], env);
    try {
      const serving = server.logs.find((line) => line.msg === "logbook is serving") as { config: Record<string, unknown> };
      assert.equal(serving.config.segmentBytes, SMALL_SEGMENT_BYTES, way);
      assert.equal(serving.config.preallocate, false, way);
      assert.equal((await call(server.url, "PUT", "/v1/kv/small", { json: way })).status, 200, way);
      assert.equal((await call(server.url, "GET", "/v1/kv/small")).json, way);
    } finally {
      await killProcess(server.child, "SIGTERM");
    }
  }
});
