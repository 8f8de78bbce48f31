/**
 * The single-writer lock of a data directory, held two ways at once:
 *
 * - A listening Unix socket in Linux's abstract namespace, named after the directory's device
 *   and inode, so that two paths to one directory (symlinks, bind mounts) meet on one name.
 *   Abstract names are per network namespace: this answers a writer in the same namespace at
 *   once, including a second open in this process.
 * - An exclusive flock(2) on `LOCK` in the directory, held by a child process
 *   (child-file-lock.ts). The kernel enforces it on the file itself, so it also stops a writer
 *   in another network namespace or container that shares the volume.
 *
 * The kernel frees both when the process dies, however it dies: the socket's name at once, the
 * file lock when the child sees its stdin close, a few milliseconds later. So the file lock is
 * waited for, up to LOCK_WAIT_MS, before an open is refused: a killed writer never blocks the
 * next one, and a live writer in another namespace costs that wait to be told LOGBOOK_LOCKED.
 * The `LOCK` file stays behind when the lock is released; it holds nothing and is never read.
 * An O_EXCL lock file alone would need a pid liveness check that races.
 */
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import { lockFileInChild } from "./child-file-lock.js";
import type { DirectoryLock } from "./file-system.js";

export const LOCK_FILE_NAME = "LOCK";
/** How long a file lock still held after its holder died may take to be dropped. */
export const LOCK_WAIT_MS = 1000;

export async function lockDirectoryForWriting(directory: string): Promise<DirectoryLock> {
  const info = await stat(directory, { bigint: true });
  const server = await listenOnLockName(directory, `\0logbook-lock-${info.dev}-${info.ino}`);
  let fileLock: Awaited<ReturnType<typeof lockFileInChild>>;
  try {
    fileLock = await lockFileInChild(join(directory, LOCK_FILE_NAME), LOCK_WAIT_MS);
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  if (fileLock === undefined) {
    await closeServer(server);
    throw lockedError(directory);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // The file lock first: once the socket's name is free, a writer that takes it finds
      // the file free too.
      await fileLock.release();
      await closeServer(server);
    },
  };
}

function listenOnLockName(directory: string, name: string): Promise<Server> {
  const server: Server = createServer();
  return new Promise<Server>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" ? lockedError(directory, error) : error);
    });
    server.listen({ path: name, exclusive: true }, () => {
      // The lock must not keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

function lockedError(directory: string, cause?: unknown): LogbookError {
  return new LogbookError("LOGBOOK_LOCKED", `${directory} is open by another Logbook writer`, {
    file: directory,
    cause,
  });
}
