/**
 * A simulated disk for crash testing: an in-memory FileSystem that keeps, per file, what a
 * reader sees now and what would survive a power cut, and per directory, which names would
 * survive. Seeded, so that a run is reproducible.
 *
 * The model (../shared/DESIGN.md §6):
 * - `write` changes what readers see; only `datasync` makes a file's data (and size) durable.
 * - A created, renamed or unlinked name is durable only after `syncDirectory` of its directory.
 * - `crash()` loses what was not made durable, as the seed picks (or as asked): all of it, all
 *   of it kept, a prefix of the dirty sectors, or any subset of them torn at 512-byte or
 *   4-KiB boundaries (torn and reordered writes).
 * After a crash, the FileSystem views handed out before it are dead: every call throws EIO,
 * so a Log left running from before the crash cannot touch what survived.
 *
 * Faults (`injectFaults`), each at a seed-chosen call, as Linux does them:
 * - `fsync-eio`: fdatasync fails with EIO and the dirty pages are dropped from the cache's
 *   accounting: readers still see the data, but it will never become durable, so a retried
 *   fdatasync "succeeds" without it.
 * - `write-eio`: a write fails with EIO and writes nothing.
 * - `write-enospc`: a write stores a seed-chosen prefix of whole sectors, then fails with ENOSPC
 *   (a short write on a full disk).
 * - `read-eio`: a read fails with EIO.
 * Latent faults (`LATENT_FAULTS`), which damage durable bytes without failing any call:
 * - `bit-flip`: one bit of a file's durable bytes flips (media decay); readers see it too
 *   unless the page cache holds a newer write of that sector.
 * - `misdirected-write`: an fdatasync stores one dirty sector over an earlier sector of the
 *   file instead of where it belongs, which keeps its old bytes. Readers see nothing wrong
 *   until the cache is gone (a power cut).
 * - `lost-write`: an fdatasync reports success but one sector that an earlier fdatasync wrote
 *   back, before everything this one writes, reverts to what it held before that write-back (a
 *   device cache that lost a write it had acknowledged). Later data of the file is durable, so
 *   the loss is provable. Readers see nothing wrong until the cache is gone.
 * Time is virtual (`clock`): it advances with the disk's operations, so a seed replays exactly.
 */
import { dirname } from "node:path";
import { LogbookError } from "../errors.js";
import type { Clock } from "./clock.js";
import type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "./file-system.js";

export const SECTOR_BYTES = 512;

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Inode {
  data: Uint8Array;
  size: number;
  durable: Uint8Array;
  durableSize: number;
  /** Sectors written since the last datasync. */
  dirty = new Set<number>();
  /** Each sector's durable bytes before its latest write-back: what a lost write reverts it to. */
  beforeWriteBack = new Map<number, Uint8Array>();

  constructor(data = new Uint8Array(0), size = 0) {
    this.data = data;
    this.size = size;
    this.durable = data.slice(0, size);
    this.durableSize = size;
  }

  ensure(bytes: number): void {
    if (bytes <= this.data.byteLength) return;
    const grown = new Uint8Array(Math.max(bytes, this.data.byteLength * 2));
    grown.set(this.data.subarray(0, this.size));
    this.data = grown;
  }
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${syscall} '${path}' (simulated disk)`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  return error;
}

export type DiskFault = "fsync-eio" | "write-eio" | "write-enospc" | "read-eio" | "bit-flip" | "misdirected-write" | "lost-write";
/** Faults that fail a call: the code sees an error. */
export const DISK_FAULTS: readonly DiskFault[] = ["fsync-eio", "write-eio", "write-enospc", "read-eio"];
/** Faults that damage durable bytes silently: only checksums can see them. */
export const LATENT_FAULTS: readonly DiskFault[] = ["bit-flip", "misdirected-write", "lost-write"];

/** A count of zero for every kind of fault. */
export function noFaults(): Record<DiskFault, number> {
  return Object.fromEntries([...DISK_FAULTS, ...LATENT_FAULTS].map((kind) => [kind, 0])) as Record<DiskFault, number>;
}

const FAULTS_BY_SYSCALL: Record<string, readonly DiskFault[]> = {
  fdatasync: ["fsync-eio", "misdirected-write", "bit-flip", "lost-write"],
  write: ["write-eio", "write-enospc", "bit-flip"],
  read: ["read-eio", "bit-flip"],
};

export type CrashMode = "lose-all" | "keep-all" | "torn-512" | "prefix" | "torn-4096";
export const CRASH_MODES: readonly CrashMode[] = ["lose-all", "keep-all", "torn-512", "prefix", "torn-4096"];

/** Virtual milliseconds an operation takes; an fdatasync takes longer, as on a disk. */
const OPERATION_MS = 0.005;
const DATASYNC_MS = 0.2;
/** 2026-01-01T00:00:00Z: virtual wall time starts here. */
const VIRTUAL_EPOCH_MS = 1_767_225_600_000;

export interface CrashReport {
  filesTorn: number;
  sectorsKept: number;
  sectorsLost: number;
  namesLost: number;
}

export class SimulatedDisk {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private directories = new Set<string>(["/"]);
  private durableDirectories = new Set<string>(["/"]);
  private locks = new Set<string>();
  private epoch = 0;
  private readonly random: () => number;
  crashes = 0;
  operations = 0;
  /** The power goes out when this many operations have run (the one that would be next fails). */
  private crashAtOperation: number | undefined;
  private scheduledMode: CrashMode | undefined;
  /** Reports of the crashes scheduled with `crashAfter`, in order. */
  readonly scheduledCrashes: CrashReport[] = [];

  private faultProbability = 0;
  private faultKinds = new Set<DiskFault>();
  /** Told of every fault and crash, for reproducing a failing seed step by step. */
  trace: ((event: string) => void) | undefined;
  /** Faults injected so far, by kind. */
  readonly faultsInjected: Record<DiskFault, number> = noFaults();
  /** Where latent faults hit durable bytes, in order. */
  readonly latentDamage: { kind: DiskFault; path: string; offset: number }[] = [];
  private virtualMs = 0;
  private readonly timers = new Set<{ intervalMs: number; dueMs: number; callback: () => void }>();
  /** Time on this disk: it moves only as operations run, and timers fire by it. */
  readonly clock: Clock = {
    monotonicMs: () => this.virtualMs,
    wallMs: () => VIRTUAL_EPOCH_MS + Math.floor(this.virtualMs),
    every: (intervalMs, callback) => {
      const timer = { intervalMs, dueMs: this.virtualMs + intervalMs, callback };
      this.timers.add(timer);
      return { cancel: () => this.timers.delete(timer) };
    },
  };

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
  }

  /** A copy of what a reader of `path` sees now (for tests that damage files by hand). */
  readFile(path: string): Uint8Array {
    const inode = this.names.get(path);
    if (inode === undefined) throw errno("ENOENT", "open", path);
    return inode.data.slice(0, inode.size);
  }

  /** Replaces a file's bytes, durably, as damage done while the power was off would. */
  replaceFile(path: string, bytes: Uint8Array): void {
    const inode = this.names.get(path);
    if (inode === undefined) throw errno("ENOENT", "open", path);
    inode.data = bytes.slice();
    inode.size = bytes.byteLength;
    inode.durable = bytes.slice();
    inode.durableSize = bytes.byteLength;
    inode.dirty.clear();
  }

  /** Paths of the files with a name now, in a stable order. */
  paths(): string[] {
    return [...this.names.keys()].sort();
  }

  /** From now on, each call of a matching kind fails with this probability (0: never). */
  injectFaults(probability: number, kinds: readonly DiskFault[] = DISK_FAULTS): void {
    this.faultProbability = probability;
    this.faultKinds = new Set(kinds);
  }

  /** Whether the call about to run fails, and how (the seed decides). */
  fault(syscall: string): DiskFault | undefined {
    if (this.faultProbability === 0) return undefined;
    const candidates = FAULTS_BY_SYSCALL[syscall]?.filter((kind) => this.faultKinds.has(kind));
    if (candidates === undefined || candidates.length === 0 || this.random() >= this.faultProbability) return undefined;
    const kind = candidates[Math.floor(this.random() * candidates.length)] as DiskFault;
    if (kind === "bit-flip") {
      this.flipBit();
      return undefined;
    }
    // A misdirected or lost write is counted when the fdatasync finds a sector to do it to.
    if (kind !== "misdirected-write" && kind !== "lost-write") this.countFault(kind, "");
    return kind;
  }

  countFault(kind: DiskFault, where: string): void {
    this.faultsInjected[kind]++;
    this.trace?.(`fault ${kind} at operation ${this.operations}${where}`);
  }

  /** Flips one bit in the written part of a file's durable bytes, as decaying media would. */
  flipBit(): boolean {
    const candidates = [...this.durableNames].filter(([, inode]) => inode.durableSize > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    if (candidates.length === 0) return false;
    const [path, inode] = candidates[Math.floor(this.random() * candidates.length)] as [string, Inode];
    let written = inode.durableSize;
    while (written > 0 && inode.durable[written - 1] === 0) written--;
    if (written === 0) return false;
    const offset = Math.floor(this.random() * written);
    const mask = 1 << Math.floor(this.random() * 8);
    inode.durable[offset] = (inode.durable[offset] as number) ^ mask;
    // The cache holds the media's bytes unless a newer write of that sector is waiting in it.
    if (!inode.dirty.has(Math.floor(offset / SECTOR_BYTES)) && offset < inode.size) {
      inode.data[offset] = (inode.data[offset] as number) ^ mask;
    }
    this.latentDamage.push({ kind: "bit-flip", path, offset });
    this.countFault("bit-flip", ` (${path} byte ${offset})`);
    return true;
  }

  /** A number in [0, 1) from the disk's seeded sequence. */
  next(): number {
    return this.random();
  }

  /** A FileSystem on this disk, valid until the next crash. */
  view(): FileSystem {
    return new SimulatedFileSystem(this, this.epoch);
  }

  /** Cuts the power: keeps what was durable, and of the rest what `mode` (or the seed) picks. */
  crash(mode?: CrashMode): CrashReport {
    this.trace?.(`power cut at operation ${this.operations}${mode === undefined ? "" : ` (${mode})`}`);
    this.crashAtOperation = undefined;
    this.epoch++;
    this.crashes++;
    this.locks.clear();
    const report: CrashReport = { filesTorn: 0, sectorsKept: 0, sectorsLost: 0, namesLost: 0 };
    const survivors = new Map<Inode, Inode>();
    const draw = this.random();
    const chosen: CrashMode =
      mode ??
      (draw < 0.3 ? "lose-all" : draw < 0.45 ? "keep-all" : draw < 0.75 ? "torn-512" : draw < 0.87 ? "prefix" : "torn-4096");
    for (const inode of new Set([...this.names.values(), ...this.durableNames.values()])) {
      const after = new Inode(inode.durable.slice(0, inode.durableSize), inode.durableSize);
      after.data = new Uint8Array(Math.max(inode.durableSize, 1));
      after.data.set(inode.durable.subarray(0, inode.durableSize));
      // Dirty sectors: all lost, all kept, a prefix, or a subset, each sector (or 4-KiB page) whole.
      const sectors = [...inode.dirty].sort((a, b) => a - b);
      const prefixEnd = chosen === "prefix" ? Math.floor(this.random() * (sectors.length + 1)) : 0;
      const pages = new Map<number, boolean>();
      for (const [index, sector] of sectors.entries()) {
        const page = Math.floor((sector * SECTOR_BYTES) / 4096);
        if (chosen === "torn-4096" && !pages.has(page)) pages.set(page, this.random() < 0.5);
        const keep =
          chosen === "lose-all"
            ? false
            : chosen === "keep-all"
              ? true
              : chosen === "prefix"
                ? index < prefixEnd
                : chosen === "torn-4096"
                  ? (pages.get(page) as boolean)
                  : this.random() < 0.5;
        if (!keep) {
          report.sectorsLost++;
          continue;
        }
        report.sectorsKept++;
        const start = sector * SECTOR_BYTES;
        const end = Math.min(start + SECTOR_BYTES, inode.size);
        if (end <= start) continue;
        after.ensure(end);
        after.data.set(inode.data.subarray(start, end), start);
        after.size = Math.max(after.size, end);
      }
      if (inode.dirty.size > 0) report.filesTorn++;
      after.durable = after.data.slice(0, after.size);
      after.durableSize = after.size;
      survivors.set(inode, after);
    }
    const names = new Map<string, Inode>();
    for (const [path, inode] of this.durableNames) names.set(path, survivors.get(inode) as Inode);
    report.namesLost = [...this.names.keys()].filter((path) => !this.durableNames.has(path)).length;
    this.names = names;
    this.durableNames = new Map(names);
    this.directories = new Set(this.durableDirectories);
    return report;
  }

  // The operations below are called through a view, which checks its epoch first.

  /** Cuts the power just before the operation after `operations` more have run, keeping what `mode` (or the seed) picks. */
  crashAfter(operations: number, mode?: CrashMode): void {
    this.crashAtOperation = this.operations + operations;
    this.scheduledMode = mode;
  }

  /** Moves virtual time on by an operation's duration; timers now due fire on the next turn. */
  advance(ms: number): void {
    this.virtualMs += ms;
    for (const timer of this.timers) {
      if (timer.dueMs > this.virtualMs) continue;
      timer.dueMs = this.virtualMs + timer.intervalMs;
      // Not inside the I/O call that moved time: as a real timer, from the event loop.
      setImmediate(() => {
        if (this.timers.has(timer)) timer.callback();
      });
    }
  }

  get crashPending(): boolean {
    return this.crashAtOperation !== undefined;
  }

  check(epoch: number, syscall: string, path: string): void {
    if (epoch !== this.epoch) throw errno("EIO", syscall, path);
    this.trace?.(`${syscall} ${path}`);
    this.advance(OPERATION_MS);
    if (this.crashAtOperation !== undefined && this.operations >= this.crashAtOperation) {
      this.crashAtOperation = undefined;
      this.scheduledCrashes.push(this.crash(this.scheduledMode));
      throw errno("EIO", syscall, path);
    }
    this.operations++;
  }

  open(path: string, mode: OpenMode): Inode {
    const existing = this.names.get(path);
    if (mode === "create") {
      if (existing !== undefined) throw errno("EEXIST", "open", path);
      if (!this.directories.has(dirname(path))) throw errno("ENOENT", "open", path);
      const inode = new Inode();
      this.names.set(path, inode);
      return inode;
    }
    if (existing === undefined) throw errno("ENOENT", "open", path);
    return existing;
  }

  list(directory: string): string[] {
    const prefix = directory.endsWith("/") ? directory : `${directory}/`;
    const names: string[] = [];
    for (const path of [...this.names.keys(), ...this.directories]) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes("/") && path.length > prefix.length) {
        names.push(path.slice(prefix.length));
      }
    }
    return names.sort();
  }

  mkdir(directory: string): void {
    const parts = directory.split("/").filter(Boolean);
    let path = "";
    for (const part of parts) {
      path += `/${part}`;
      this.directories.add(path);
    }
  }

  rename(from: string, to: string): void {
    const inode = this.names.get(from);
    if (inode === undefined) throw errno("ENOENT", "rename", from);
    this.names.delete(from);
    this.names.set(to, inode);
  }

  unlink(path: string): void {
    if (!this.names.delete(path)) throw errno("ENOENT", "unlink", path);
  }

  syncDirectory(directory: string): void {
    if (!this.directories.has(directory)) throw errno("ENOENT", "fsync", directory);
    // The directory's own entry in its parent becomes durable with the parent's sync; here
    // a synced directory makes its children's names durable, and itself known.
    this.durableDirectories.add(directory);
    for (const child of this.directories) if (dirname(child) === directory) this.durableDirectories.add(child);
    for (const path of [...this.durableNames.keys()]) {
      if (dirname(path) === directory && !this.names.has(path)) this.durableNames.delete(path);
    }
    for (const [path, inode] of this.names) if (dirname(path) === directory) this.durableNames.set(path, inode);
  }

  lock(directory: string): void {
    if (this.locks.has(directory)) {
      throw new LogbookError("LOGBOOK_LOCKED", `${directory} is open by another Logbook writer`, { file: directory });
    }
    if (!this.directories.has(directory)) throw errno("ENOENT", "lock", directory);
    this.locks.add(directory);
  }

  unlock(directory: string): void {
    this.locks.delete(directory);
  }

  isCurrent(epoch: number): boolean {
    return epoch === this.epoch;
  }
}

class SimulatedHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly disk: SimulatedDisk,
    private readonly epoch: number,
    private readonly writable: boolean,
  ) {}

  async read(buffer: Uint8Array, position: number): Promise<number> {
    this.disk.check(this.epoch, "read", this.path);
    if (this.disk.fault("read") === "read-eio") throw errno("EIO", "read", this.path);
    const end = Math.min(this.inode.size, position + buffer.byteLength);
    if (end <= position) return 0;
    buffer.set(this.inode.data.subarray(position, end));
    return end - position;
  }

  async write(data: Uint8Array, position: number, options: WriteOptions = {}): Promise<void> {
    this.disk.check(this.epoch, "write", this.path);
    if (!this.writable) throw errno("EBADF", "write", this.path);
    const fault = this.disk.fault("write");
    if (fault === "write-eio") throw errno("EIO", "write", this.path);
    if (fault === "write-enospc") {
      const sectors = Math.floor(data.byteLength / SECTOR_BYTES);
      const kept = Math.floor(this.disk.next() * (sectors + 1)) * SECTOR_BYTES;
      if (kept > 0) this.store(data.subarray(0, kept), position);
      throw errno("ENOSPC", "write", this.path);
    }
    this.store(data, position);
    if (options.datasync === true) await this.datasync();
  }

  private store(data: Uint8Array, position: number): void {
    const inode = this.inode;
    const end = position + data.byteLength;
    inode.ensure(end);
    inode.data.set(data, position);
    inode.size = Math.max(inode.size, end);
    for (let sector = Math.floor(position / SECTOR_BYTES); sector * SECTOR_BYTES < end; sector++) inode.dirty.add(sector);
  }

  async datasync(): Promise<void> {
    this.disk.check(this.epoch, "fdatasync", this.path);
    const inode = this.inode;
    this.disk.advance(DATASYNC_MS);
    const fault = this.disk.fault("fdatasync");
    if (fault === "fsync-eio") {
      // Linux marks the failed pages clean: what they held stays readable but is never written.
      inode.dirty.clear();
      throw errno("EIO", "fdatasync", this.path);
    }
    // A misdirected sector lands over an earlier sector of the file; its own place keeps its old bytes.
    const sectors = [...inode.dirty].sort((a, b) => a - b);
    const lowest = sectors[0] ?? 0;
    let misdirected: { from: number; to: number } | undefined;
    if (fault === "misdirected-write" && lowest > 0) {
      misdirected = {
        from: sectors[Math.floor(this.disk.next() * sectors.length)] as number,
        to: Math.floor(this.disk.next() * lowest),
      };
    }
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
    if (fault === "lost-write") this.loseEarlierWriteBack(inode, durable, lowest);
    if (misdirected !== undefined) {
      const start = misdirected.from * SECTOR_BYTES;
      const bytes = inode.data.subarray(start, Math.min(start + SECTOR_BYTES, inode.size));
      durable.set(bytes, misdirected.to * SECTOR_BYTES);
      this.disk.latentDamage.push({ kind: "misdirected-write", path: this.path, offset: start });
      this.disk.countFault("misdirected-write", ` (${this.path} sector ${misdirected.from} written at ${misdirected.to})`);
    }
    inode.durable = durable;
    inode.durableSize = inode.size;
    inode.dirty.clear();
  }

  /** The lost-write fault: a sector written back before `below` reverts to its bytes before that write-back. */
  private loseEarlierWriteBack(inode: Inode, durable: Uint8Array, below: number): void {
    const candidates = [...inode.beforeWriteBack.keys()].filter((sector) => sector < below).sort((a, b) => a - b);
    if (candidates.length === 0) return;
    const sector = candidates[Math.floor(this.disk.next() * candidates.length)] as number;
    const before = inode.beforeWriteBack.get(sector) as Uint8Array;
    const start = sector * SECTOR_BYTES;
    durable.fill(0, start, Math.min(start + SECTOR_BYTES, durable.byteLength));
    durable.set(before.subarray(0, Math.max(0, Math.min(before.byteLength, durable.byteLength - start))), start);
    inode.beforeWriteBack.delete(sector);
    this.disk.latentDamage.push({ kind: "lost-write", path: this.path, offset: start });
    this.disk.countFault("lost-write", ` (${this.path} sector ${sector} reverted)`);
  }

  async sizeBytes(): Promise<number> {
    this.disk.check(this.epoch, "fstat", this.path);
    return this.inode.size;
  }

  async truncate(sizeBytes: number): Promise<void> {
    this.disk.check(this.epoch, "ftruncate", this.path);
    this.inode.size = sizeBytes;
  }

  async close(): Promise<void> {
    // Closing a handle from before a crash is allowed: it only lets go of the object.
  }
}

class SimulatedFileSystem implements FileSystem {
  constructor(
    private readonly disk: SimulatedDisk,
    private readonly epoch: number,
  ) {}

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    this.disk.check(this.epoch, "open", path);
    const inode = this.disk.open(path, mode);
    return new SimulatedHandle(path, inode, this.disk, this.epoch, mode !== "read");
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
