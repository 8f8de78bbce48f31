/**
 * A simulated disk for crash testing: an in-memory FileSystem that keeps, per file, what a
 * reader sees now and what would survive a power cut, and per directory, which names would
 * survive. Seeded, so that a run is reproducible.
 *
 * The model (the fault model of docs/guarantees.md):
 * - `write` changes what readers see; only `datasync` makes a file's data (and size) durable.
 * - A created, renamed or unlinked name is durable only after `syncDirectory` of its directory.
 * - `crash()` loses what was not made durable, as the seed picks (or as asked): power-cut.ts.
 * After a crash, the FileSystem views handed out before it are dead: every call throws EIO,
 * so a Log left running from before the crash cannot touch what survived.
 *
 * Faults that fail calls or silently damage durable bytes are injected with `injectFaults`
 * (disk-faults.ts). Time is virtual (`clock`): it advances with the disk's operations, so a
 * seed replays exactly.
 */
import { dirname } from "node:path";
import { LogbookError } from "../errors.js";
import type { Clock, FileSystem, OpenMode } from "../io/index.js";
import { DISK_FAULTS, type DiskFault, FaultInjector, type LatentDamage } from "./disk-faults.js";
import { errno } from "./errno.js";
import { Inode } from "./inode.js";
import { type CrashMode, type CrashReport, crashModeOf, survivorOf } from "./power-cut.js";
import { seededRandom } from "./seeded-random.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";
import { OPERATION_MS, VirtualClock } from "./virtual-clock.js";

export class SimulatedDisk {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private directories = new Set<string>(["/"]);
  private durableDirectories = new Set<string>(["/"]);
  private locks = new Set<string>();
  private epoch = 0;
  private readonly random: () => number;
  private readonly faults: FaultInjector;
  private readonly time = new VirtualClock();
  crashes = 0;
  operations = 0;
  /** The power goes out when this many operations have run (the one that would be next fails). */
  private crashAtOperation: number | undefined;
  private scheduledMode: CrashMode | undefined;
  /** Reports of the crashes scheduled with `crashAfter`, in order. */
  readonly scheduledCrashes: CrashReport[] = [];
  /** Told of every fault and crash, for reproducing a failing seed step by step. */
  trace: ((event: string) => void) | undefined;
  /** Faults injected so far, by kind. */
  readonly faultsInjected: Record<DiskFault, number>;
  /** Where latent faults hit durable bytes, in order. */
  readonly latentDamage: readonly LatentDamage[];
  /** Time on this disk: it moves only as operations run, and timers fire by it. */
  readonly clock: Clock = this.time;

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
    this.faults = new FaultInjector(this.random, (kind, where) => {
      this.trace?.(`fault ${kind} at operation ${this.operations}${where}`);
    });
    this.faultsInjected = this.faults.injected;
    this.latentDamage = this.faults.latentDamage;
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
    this.faults.inject(probability, kinds);
  }

  /** A FileSystem on this disk, valid until the next crash. */
  view(): FileSystem {
    return new SimulatedFileSystem(this, this.faults, this.epoch);
  }

  /** Cuts the power: keeps what was durable, and of the rest what `mode` (or the seed) picks. */
  crash(mode?: CrashMode): CrashReport {
    this.trace?.(`power cut at operation ${this.operations}${mode === undefined ? "" : ` (${mode})`}`);
    this.crashAtOperation = undefined;
    this.epoch++;
    this.crashes++;
    this.locks.clear();
    const report: CrashReport = { filesTorn: 0, sectorsKept: 0, sectorsLost: 0, namesLost: 0 };
    const draw = this.random();
    const chosen = mode ?? crashModeOf(draw);
    const survivors = new Map<Inode, Inode>();
    for (const inode of new Set([...this.names.values(), ...this.durableNames.values()])) {
      survivors.set(inode, survivorOf(inode, chosen, this.random, report));
    }
    const names = new Map<string, Inode>();
    for (const [path, inode] of this.durableNames) names.set(path, survivors.get(inode) as Inode);
    report.namesLost = [...this.names.keys()].filter((path) => !this.durableNames.has(path)).length;
    this.names = names;
    this.durableNames = new Map(names);
    this.directories = new Set(this.durableDirectories);
    return report;
  }

  /** Cuts the power just before the operation after `operations` more have run, keeping what `mode` (or the seed) picks. */
  crashAfter(operations: number, mode?: CrashMode): void {
    this.crashAtOperation = this.operations + operations;
    this.scheduledMode = mode;
  }

  get crashPending(): boolean {
    return this.crashAtOperation !== undefined;
  }

  // The operations below are called through a view (simulated-file-system.ts), which checks its epoch first.

  /** Moves virtual time on by an operation's duration; timers now due fire on the next turn. */
  advance(ms: number): void {
    this.time.advance(ms);
  }

  /** Starts an operation of a view from `epoch`: fails it if the power went out since, or goes out now. */
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

  /** Whether the call about to run fails, and how (the seed decides). */
  fault(syscall: string): DiskFault | undefined {
    return this.faults.draw(syscall, this.durableNames);
  }

  open(path: string, mode: OpenMode): Inode {
    const existing = this.names.get(path);
    if (this.directories.has(path)) throw errno(mode === "create" ? "EEXIST" : "EISDIR", "open", path);
    if (mode === "create") {
      if (existing !== undefined) throw errno("EEXIST", "open", path);
      this.requireDirectory(dirname(path), "open", path);
      const inode = new Inode();
      this.names.set(path, inode);
      return inode;
    }
    if (existing === undefined) throw errno("ENOENT", "open", path);
    return existing;
  }

  list(directory: string): string[] {
    if (this.names.has(directory)) throw errno("ENOTDIR", "scandir", directory);
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
    for (const [index, part] of parts.entries()) {
      path += `/${part}`;
      // As mkdir -p: a file in the way is EEXIST at the end of the path, ENOTDIR before it.
      if (this.names.has(path)) throw errno(index === parts.length - 1 ? "EEXIST" : "ENOTDIR", "mkdir", directory);
    }
    path = "";
    for (const part of parts) {
      path += `/${part}`;
      this.directories.add(path);
    }
  }

  rename(from: string, to: string): void {
    const inode = this.names.get(from);
    if (inode === undefined) throw errno("ENOENT", "rename", from);
    this.requireDirectory(dirname(to), "rename", from);
    if (this.directories.has(to)) throw errno("EISDIR", "rename", from);
    this.names.delete(from);
    this.names.set(to, inode);
  }

  unlink(path: string): void {
    if (this.directories.has(path)) throw errno("EISDIR", "unlink", path);
    if (!this.names.delete(path)) throw errno("ENOENT", "unlink", path);
  }

  syncDirectory(directory: string): void {
    if (this.names.has(directory)) throw errno("ENOTDIR", "open", directory);
    if (!this.directories.has(directory)) throw errno("ENOENT", "open", directory);
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

  private requireDirectory(directory: string, syscall: string, path: string): void {
    if (this.directories.has(directory)) return;
    throw errno(this.names.has(directory) ? "ENOTDIR" : "ENOENT", syscall, path);
  }
}
