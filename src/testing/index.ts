/**
 * `logbook/testing`: disks for testing code built on Logbook. A seeded simulated disk that loses
 * what was not made durable when its power is cut, fails calls (EIO, ENOSPC) and damages durable
 * bytes silently, with virtual time so that a seed replays exactly; and a wrapper that replaces
 * chosen methods of any FileSystem; and an in-memory WriteAheadLog (the seam the store reaches its
 * log through) that can hold, fail and lose acknowledgements on demand. Production code never
 * imports this module.
 */
export { DISK_FAULTS, type DiskFault, LATENT_FAULTS, type LatentDamage, noFaults } from "./disk-faults.js";
export { SECTOR_BYTES } from "./inode.js";
export {
  forgetMemoryLogs,
  MemoryLog,
  type MemoryLogOptions,
  memoryLogAt,
  memoryLogOpener,
  openMemoryLog,
} from "./memory-log.js";
export { CRASH_MODES, type CrashMode, type CrashReport } from "./power-cut.js";
export { seededRandom } from "./seeded-random.js";
export { SimulatedDisk } from "./simulated-disk.js";
export { type FileSystemReplacements, wrapFileSystem } from "./wrap-file-system.js";
