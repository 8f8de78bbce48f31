import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { isLogbookError, Log, type LogOptions } from "../../src/index.js";
import { LOCK_FILE_NAME, LOCK_WAIT_MS, lockDirectoryForWriting } from "../../src/io/directory-lock.js";
import { killAndWait, spawnTs } from "../support/child.js";
import { tempDir } from "../support/temp.js";

const SMALL: LogOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };
const KILL_ROUNDS = 3;
const IDLE_EXIT_TIMEOUT_MS = 10_000;
/** How long the killed holder's lock child is kept from exiting: well inside LOCK_WAIT_MS. */
const SLOW_EXIT_MS = 200;
const CHILD_LINE_TIMEOUT_MS = 20_000;

const UNSHARE = ["unshare", "--net"];
const unshareRefused = (() => {
  const probe = spawnSync(UNSHARE[0] as string, [...UNSHARE.slice(1), "true"], { stdio: "ignore", timeout: 5000 });
  return probe.status === 0 ? false : "unshare --net is not permitted here (needs root or CAP_SYS_ADMIN)";
})();

/** The first line the child prints: "ready" (it holds the log) or "refused <code>". */
function firstLine(child: ChildProcess, timeoutMs = CHILD_LINE_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let errors = "";
    const timer = setTimeout(() => reject(new Error(`child printed no line in ${timeoutMs} ms: ${errors}`)), timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const end = buffered.indexOf("\n");
      if (end < 0) return;
      clearTimeout(timer);
      resolve(buffered.slice(0, end));
    });
    // "close", not "exit": a child that prints and exits at once may exit before its line is read.
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing a line: ${errors}`));
    });
  });
}

/** Whether another open file description can take an exclusive flock on the lock file now. */
function lockFileIsFree(dir: string): boolean {
  const probe = spawnSync("flock", ["--exclusive", "--nonblock", join(dir, LOCK_FILE_NAME), "true"], { timeout: 5000 });
  return probe.status === 0;
}

/** The pid holding a flock(2) on the lock file, read from /proc/locks (the holder's lock child). */
async function lockFileHolderPid(dir: string): Promise<number> {
  const { ino } = await stat(join(dir, LOCK_FILE_NAME));
  for (const line of (await readFile("/proc/locks", "utf8")).split("\n")) {
    // "1: FLOCK  ADVISORY  WRITE 20424 fe:00:2154673 0 EOF": the pid, then major:minor:inode.
    const fields = line.trim().split(/\s+/);
    if (fields[1] === "FLOCK" && fields[5]?.endsWith(`:${ino}`)) return Number(fields[4]);
  }
  throw new Error(`no flock on ${join(dir, LOCK_FILE_NAME)} in /proc/locks`);
}

describe("directory lock", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a writer in another network namespace cannot open a directory this process holds: LOGBOOK_LOCKED", {
    skip: unshareRefused,
  }, async () => {
    const lock = await lockDirectoryForWriting(dir);
    const child = await spawnTs("lock-holder.ts", [dir], UNSHARE);
    try {
      assert.equal(await firstLine(child), "refused LOGBOOK_LOCKED");
    } finally {
      await killAndWait(child);
      await lock.release();
    }
  });

  test("this process cannot open a directory a writer in another network namespace holds: LOGBOOK_LOCKED, and it opens once that writer is killed", {
    skip: unshareRefused,
  }, async () => {
    const child = await spawnTs("lock-holder.ts", [dir], UNSHARE);
    try {
      assert.equal(await firstLine(child), "ready");
      await assert.rejects(Log.open(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_LOCKED"));
    } finally {
      await killAndWait(child);
    }
    const lock = await lockDirectoryForWriting(dir);
    await lock.release();
  });

  test("a SIGKILLed holder never blocks the next open, round after round", async () => {
    for (let round = 1; round <= KILL_ROUNDS; round++) {
      const child = await spawnTs("lock-holder.ts", [dir]);
      try {
        assert.equal(await firstLine(child), "ready", `round ${round}`);
      } finally {
        await killAndWait(child);
      }
      // Taken the moment the holder is gone, while its lock child may still be exiting.
      const lock = await lockDirectoryForWriting(dir);
      await lock.release();
    }
  });

  test("a SIGKILLed holder whose lock child is slow to exit does not block the next open", async () => {
    const child = await spawnTs("lock-holder.ts", [dir]);
    // A stopped process cannot exit, so this pid stays its own until it is continued.
    let stoppedPid: number | undefined;
    try {
      assert.equal(await firstLine(child), "ready");
      // Stopped, the holder's lock child cannot see its stdin close when the holder dies.
      const lockChildPid = await lockFileHolderPid(dir);
      process.kill(lockChildPid, "SIGSTOP");
      stoppedPid = lockChildPid;
      await killAndWait(child);
      const taking = lockDirectoryForWriting(dir);
      await delay(SLOW_EXIT_MS);
      stoppedPid = undefined;
      process.kill(lockChildPid, "SIGCONT");
      const lock = await taking;
      await lock.release();
    } finally {
      if (stoppedPid !== undefined) process.kill(stoppedPid, "SIGCONT");
      await killAndWait(child);
    }
  });

  test("release() frees the kernel lock before it resolves: another open gets in at once", async () => {
    const lock = await lockDirectoryForWriting(dir);
    assert.equal(lockFileIsFree(dir), false, "held until released");
    await lock.release();
    assert.equal(lockFileIsFree(dir), true, "free as soon as release() resolves");
    const startedMs = performance.now();
    const again = await lockDirectoryForWriting(dir);
    assert.ok(performance.now() - startedMs < LOCK_WAIT_MS, "taken without waiting for a holder to let go");
    await again.release();
  });

  test("a lock file left behind (by a killed holder, or with any content) does not block an open", async () => {
    const child = await spawnTs("lock-holder.ts", [dir]);
    try {
      assert.equal(await firstLine(child), "ready");
    } finally {
      await killAndWait(child);
    }
    await writeFile(join(dir, LOCK_FILE_NAME), "pid 1 holds this\n");
    const lock = await lockDirectoryForWriting(dir);
    await lock.release();
  });

  test("a process holding the lock with nothing left to do exits, and its lock goes with it", async () => {
    const child = await spawnTs("lock-holder.ts", [dir, "--exit-when-idle"]);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      assert.equal(await firstLine(child), "ready");
      const timeout = new Promise<"timeout">((resolve) => setTimeout(resolve, IDLE_EXIT_TIMEOUT_MS, "timeout").unref());
      assert.equal(await Promise.race([exited, timeout]), 0, "the lock kept the process alive");
    } finally {
      await killAndWait(child);
    }
    const lock = await lockDirectoryForWriting(dir);
    await lock.release();
  });
});
