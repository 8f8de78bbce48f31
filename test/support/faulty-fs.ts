/**
 * A FileSystem that delegates to another and fails chosen operations, as a disk does: an
 * fdatasync that returns EIO (after writing, so the data may or may not be there), a write
 * that fails with ENOSPC or EIO after writing part of its data.
 */
import { closeSync, openSync } from "node:fs";
import type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "../../src/io/file-system.js";

export type FaultKind = "datasync-eio" | "write-enospc" | "write-eio";

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected fault, ${syscall}`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  return error;
}

export class FaultyFileSystem implements FileSystem {
  /** Fail the operation after this many more matching ones succeed; undefined: never. */
  private countdown: number | undefined;
  private kind: FaultKind | undefined;
  /** Only files whose path ends with this are faulted (default: segments). */
  pathSuffix = ".log";
  /**
   * What handles offer as `descriptor` (which makes the log commit on its writer thread):
   * nothing (commits go through `write`/`datasync` here, where faults are injected), the real
   * one, or a descriptor of /dev/full, so that the writer thread's own writes fail with ENOSPC.
   */
  descriptors: "none" | "real" | "dev-full" = "none";
  private devFull: number | undefined;
  faultsInjected = 0;

  constructor(private readonly inner: FileSystem) {}

  failAfter(kind: FaultKind, successes: number): void {
    this.kind = kind;
    this.countdown = successes;
  }

  /** Returns whether the matching operation should fail now. */
  trip(kind: "datasync" | "write", path: string): FaultKind | undefined {
    if (this.kind === undefined || this.countdown === undefined || !path.endsWith(this.pathSuffix)) return undefined;
    if (!this.kind.startsWith(kind)) return undefined;
    if (this.countdown > 0) {
      this.countdown--;
      return undefined;
    }
    this.faultsInjected++;
    return this.kind;
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    return new FaultyHandle(await this.inner.open(path, mode), this);
  }
  list(directory: string): Promise<string[]> {
    return this.inner.list(directory);
  }
  mkdir(directory: string): Promise<void> {
    return this.inner.mkdir(directory);
  }
  rename(fromPath: string, toPath: string): Promise<void> {
    return this.inner.rename(fromPath, toPath);
  }
  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }
  syncDirectory(directory: string): Promise<void> {
    return this.inner.syncDirectory(directory);
  }
  lockDirectory(directory: string): Promise<DirectoryLock> {
    return this.inner.lockDirectory(directory);
  }
  descriptorFor(inner: FileHandle): number | undefined {
    if (this.descriptors === "real") return inner.descriptor;
    if (this.descriptors === "dev-full" && inner.path.endsWith(this.pathSuffix)) {
      this.devFull ??= openSync("/dev/full", "w");
      return this.devFull;
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.devFull !== undefined) closeSync(this.devFull);
    this.devFull = undefined;
    await this.inner.close?.();
  }
}

class FaultyHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly fs: FaultyFileSystem,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  get descriptor(): number | undefined {
    return this.fs.descriptorFor(this.inner);
  }
  read(buffer: Uint8Array, position: number): Promise<number> {
    return this.inner.read(buffer, position);
  }
  async write(data: Uint8Array, position: number, options: WriteOptions = {}): Promise<void> {
    const writeFault = this.fs.trip("write", this.path);
    if (writeFault !== undefined) {
      // Part of the data lands before the failure, as with a real ENOSPC or EIO mid-write.
      await this.inner.write(data.subarray(0, Math.floor(data.byteLength / 2)), position);
      throw errno(writeFault === "write-enospc" ? "ENOSPC" : "EIO", "write");
    }
    await this.inner.write(data, position);
    if (options.datasync === true) await this.datasync();
  }
  async datasync(): Promise<void> {
    if (this.fs.trip("datasync", this.path) !== undefined) throw errno("EIO", "fdatasync");
    await this.inner.datasync();
  }
  sizeBytes(): Promise<number> {
    return this.inner.sizeBytes();
  }
  truncate(sizeBytes: number): Promise<void> {
    return this.inner.truncate(sizeBytes);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
