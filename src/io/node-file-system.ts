/**
 * FileSystem on node:fs/promises. Handles expose their descriptor, which the log's writer
 * thread writes and fdatasyncs directly (src/io/sync-ops.ts).
 */
import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import { lockDirectoryForWriting } from "./directory-lock.js";
import type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "./file-system.js";

const OPEN_FLAGS: Record<OpenMode, number> = {
  read: constants.O_RDONLY,
  write: constants.O_RDWR,
  create: constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
};
const FILE_MODE = 0o644;

class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  get descriptor(): number {
    return this.handle.fd;
  }

  async read(buffer: Uint8Array, position: number): Promise<number> {
    let total = 0;
    while (total < buffer.byteLength) {
      const { bytesRead } = await this.handle.read(buffer, total, buffer.byteLength - total, position + total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total;
  }

  async write(data: Uint8Array, position: number, options: WriteOptions = {}): Promise<void> {
    let offset = 0;
    while (offset < data.byteLength) {
      const { bytesWritten } = await this.handle.write(data, offset, data.byteLength - offset, position + offset);
      offset += bytesWritten;
    }
    if (options.datasync === true) await this.handle.datasync();
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  async sizeBytes(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.handle.truncate(sizeBytes);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await fs.open(path, OPEN_FLAGS[mode], FILE_MODE);
    return new NodeFileHandle(path, handle);
  }

  async list(directory: string): Promise<string[]> {
    try {
      return await fs.readdir(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  async mkdir(directory: string): Promise<void> {
    await fs.mkdir(directory, { recursive: true });
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return fs.rename(fromPath, toPath);
  }

  unlink(path: string): Promise<void> {
    return fs.unlink(path);
  }

  async syncDirectory(directory: string): Promise<void> {
    const handle = await fs.open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  lockDirectory(directory: string): Promise<DirectoryLock> {
    return lockDirectoryForWriting(directory);
  }
}
