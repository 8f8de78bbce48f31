/**
 * The single-writer lock of a data directory, held as a listening Unix socket in Linux's
 * abstract namespace, named after the directory's device and inode. The kernel frees the name
 * when the process dies, however it dies, so a killed writer never leaves a stale lock, and
 * two paths to one directory (symlinks, bind mounts) meet on the same name. Node has no
 * flock(); an O_EXCL lock file would need a pid liveness check that races.
 */
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { LogbookError } from "../errors.js";
import type { DirectoryLock } from "./file-system.js";

export async function lockDirectoryBySocket(directory: string): Promise<DirectoryLock> {
  const info = await stat(directory, { bigint: true });
  const name = `\0logbook-lock-${info.dev}-${info.ino}`;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new LogbookError("LOGBOOK_LOCKED", `${directory} is open by another Logbook writer`, {
            file: directory,
            cause: error,
          }),
        );
      } else {
        reject(error);
      }
    });
    server.listen({ path: name, exclusive: true }, () => resolve());
  });
  // The lock must not keep the process alive on its own.
  server.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
