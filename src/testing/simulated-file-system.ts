/**
 * The FileSystem views a SimulatedDisk hands out, and their file handles. Each call first asks
 * the disk to start an operation (`check`): it fails with EIO once the power went out after
 * the view was made, counts toward a scheduled crash, and moves virtual time. Handles carry no
 * descriptor, so the log commits through `write` and `datasync` on its own thread.
 */
import type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "../io/index.js";
import type { FaultInjector } from "./disk-faults.js";
import { errno } from "./errno.js";
import { type Inode, SECTOR_BYTES } from "./inode.js";
import type { SimulatedDisk } from "./simulated-disk.js";
import { DATASYNC_MS } from "./virtual-clock.js";

class SimulatedHandle implements FileHandle {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly disk: SimulatedDisk,
    private readonly faults: FaultInjector,
    private readonly epoch: number,
    private readonly writable: boolean,
  ) {}

  async read(buffer: Uint8Array, position: number): Promise<number> {
    this.start("read");
    if (this.disk.fault("read") === "read-eio") throw errno("EIO", "read", this.path);
    const end = Math.min(this.inode.size, position + buffer.byteLength);
    if (end <= position) return 0;
    buffer.set(this.inode.data.subarray(position, end));
    return end - position;
  }

  async write(data: Uint8Array, position: number, options: WriteOptions = {}): Promise<void> {
    this.start("write");
    if (!this.writable) throw errno("EBADF", "write", this.path);
    const fault = this.disk.fault("write");
    if (fault === "write-eio") throw errno("EIO", "write", this.path);
    if (fault === "write-enospc") {
      const kept = this.faults.shortWriteBytes(data.byteLength);
      if (kept > 0) this.inode.store(data.subarray(0, kept), position);
      throw errno("ENOSPC", "write", this.path);
    }
    this.inode.store(data, position);
    if (options.datasync === true) await this.datasync();
  }

  async datasync(): Promise<void> {
    this.start("fdatasync");
    const inode = this.inode;
    this.disk.advance(DATASYNC_MS);
    const fault = this.disk.fault("fdatasync");
    if (fault === "fsync-eio") {
      // Linux marks the failed pages clean: what they held stays readable but is never written.
      inode.dirty.clear();
      throw errno("EIO", "fdatasync", this.path);
    }
    const sectors = [...inode.dirty].sort((a, b) => a - b);
    const lowest = sectors[0] ?? 0;
    // A misdirected sector lands over an earlier sector of the file; its own place keeps its old bytes.
    const misdirected = fault === "misdirected-write" ? this.faults.misdirect(sectors) : undefined;
    // Only dirty sectors reach the device: pages dropped by a failed fdatasync never do.
    const durable = new Uint8Array(inode.size);
    durable.set(inode.durable.subarray(0, Math.min(inode.durableSize, inode.size)));
    for (const sector of sectors) {
      if (sector === misdirected?.from) continue;
      const start = sector * SECTOR_BYTES;
      const end = Math.min(start + SECTOR_BYTES, inode.size);
      if (end <= start) continue;
      inode.beforeWriteBack.set(sector, durable.slice(start, end));
      durable.set(inode.data.subarray(start, end), start);
    }
    if (fault === "lost-write") this.faults.loseEarlierWriteBack(this.path, inode, durable, lowest);
    if (misdirected !== undefined) this.faults.applyMisdirection(this.path, inode, durable, misdirected);
    inode.durable = durable;
    inode.durableSize = inode.size;
    inode.dirty.clear();
  }

  async sizeBytes(): Promise<number> {
    this.start("fstat");
    return this.inode.size;
  }

  async truncate(sizeBytes: number): Promise<void> {
    this.start("ftruncate");
    // ftruncate(2) on a descriptor not open for writing.
    if (!this.writable) throw errno("EINVAL", "ftruncate", this.path);
    this.inode.resize(sizeBytes);
  }

  async close(): Promise<void> {
    // Closing a handle from before a crash is allowed: it only lets go of the object.
    this.closed = true;
  }

  /** Starts an operation on this handle; after `close`, the operation fails with EBADF, as on a closed descriptor. */
  private start(syscall: string): void {
    this.disk.check(this.epoch, syscall, this.path);
    if (this.closed) throw errno("EBADF", syscall, this.path);
  }
}

export class SimulatedFileSystem implements FileSystem {
  constructor(
    private readonly disk: SimulatedDisk,
    private readonly faults: FaultInjector,
    private readonly epoch: number,
  ) {}

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    this.disk.check(this.epoch, "open", path);
    const inode = this.disk.open(path, mode);
    return new SimulatedHandle(path, inode, this.disk, this.faults, this.epoch, mode !== "read");
  }
  async list(directory: string): Promise<string[]> {
    this.disk.check(this.epoch, "readdir", directory);
    return this.disk.list(directory);
  }
  async mkdir(directory: string): Promise<void> {
    this.disk.check(this.epoch, "mkdir", directory);
    this.disk.mkdir(directory);
  }
  async rename(fromPath: string, toPath: string): Promise<void> {
    this.disk.check(this.epoch, "rename", fromPath);
    this.disk.rename(fromPath, toPath);
  }
  async unlink(path: string): Promise<void> {
    this.disk.check(this.epoch, "unlink", path);
    this.disk.unlink(path);
  }
  async syncDirectory(directory: string): Promise<void> {
    this.disk.check(this.epoch, "fsync", directory);
    this.disk.syncDirectory(directory);
  }
  async lockDirectory(directory: string): Promise<DirectoryLock> {
    this.disk.check(this.epoch, "lock", directory);
    this.disk.lock(directory);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        // A lock taken before a crash died with it: never release the lock of a later holder.
        if (this.disk.isCurrent(this.epoch)) this.disk.unlock(directory);
      },
    };
  }
}
