/**
 * An exclusive flock(2) on a file, held by a child process running util-linux's flock(1):
 * Node has no flock() of its own. The lock belongs to the child's open file description, so
 * the kernel enforces it against every process that opens the same file, whatever network,
 * mount or pid namespace it runs in.
 *
 * The child's stdin is a pipe whose only writing end is in this process (Node opens pipes
 * close-on-exec, so no other child inherits it). When this process dies, however it dies, the
 * kernel closes that end, the child reads end-of-file and exits, and the kernel drops the
 * lock with the child's last descriptor. flock(1) runs with --no-fork, so the process that
 * holds the lock is the one child we know by pid: killing it releases the lock.
 *
 * The child runs in its own session (`detached`), so a signal sent to this process's group
 * (Ctrl-C in a terminal) cannot release the lock while this process is still writing.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { LogbookError } from "../errors.js";

/** flock(1)'s exit status when the lock is still held by another process after the wait. */
const CONFLICT_EXIT_CODE = 75;
/** Printed by the child once flock(1) holds the lock and has started the command. */
const ACQUIRED_LINE = "acquired";
/** Error text kept from a child that fails before it holds the lock. */
const STDERR_CHARS_MAX = 4096;
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

export interface ChildFileLock {
  /** Kills the child; resolves once it has exited, when the kernel has dropped the lock. */
  release(): Promise<void>;
}

/**
 * Takes an exclusive lock on `path` (created if missing), waiting up to `waitMs` for another
 * holder to let go; resolves with undefined when one still holds it. The child blocks in
 * flock(2) rather than polling, so it gets the lock the moment a holder's process exits.
 */
export async function lockFileInChild(path: string, waitMs: number): Promise<ChildFileLock | undefined> {
  if (!(Number.isFinite(waitMs) && waitMs > 0)) throw new TypeError("waitMs must be a positive number");
  const child = spawn(
    "flock",
    [
      "--exclusive",
      "--no-fork",
      "--timeout",
      String(waitMs / 1000),
      "--conflict-exit-code",
      String(CONFLICT_EXIT_CODE),
      path,
      "sh",
      "-c",
      // `exec` leaves one process holding the lock: cat, until its stdin (our pipe) closes.
      `echo ${ACQUIRED_LINE} && exec cat > /dev/null`,
    ],
    {
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
      env: { PATH: process.env.PATH ?? DEFAULT_PATH, LC_ALL: "C" },
    },
  );
  const outcome = await waitForAcquired(child);
  if (outcome.kind === "acquired") {
    // Only the child and our end of its stdin remain; neither may keep this process alive.
    child.stdout.destroy();
    child.stderr.destroy();
    (child.stdin as unknown as Socket).unref();
    child.unref();
    return { release: () => killAndWait(child) };
  }
  child.stdin.destroy();
  if (outcome.kind === "exited" && outcome.code === CONFLICT_EXIT_CODE) return undefined;
  const why =
    outcome.kind === "failed"
      ? `could not start flock(1): ${outcome.error.message}`
      : `flock(1) exited with ${outcome.code ?? outcome.signal}: ${outcome.stderr.trim()}`;
  throw new LogbookError("LOGBOOK_IO", `locking ${path} failed: ${why}`, {
    file: path,
    cause: outcome.kind === "failed" ? outcome.error : undefined,
  });
}

type Outcome =
  | { kind: "acquired" }
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null; stderr: string }
  | { kind: "failed"; error: Error };

type LockChild = ChildProcessByStdio<Writable, Readable, Readable>;

function waitForAcquired(child: LockChild): Promise<Outcome> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.split("\n").includes(ACQUIRED_LINE)) resolve({ kind: "acquired" });
    });
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(0, STDERR_CHARS_MAX);
    });
    child.once("error", (error) => resolve({ kind: "failed", error }));
    // "close" comes after the child's output is read, so an acquired line is never missed.
    child.once("close", (code, signal) => resolve({ kind: "exited", code, signal, stderr }));
  });
}

function killAndWait(child: LockChild): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // Referenced again, so this process lives until the lock is dropped.
    child.ref();
    child.once("exit", () => {
      child.stdin.destroy();
      resolve();
    });
    child.kill("SIGKILL");
  });
}
