/**
 * A real file system on a loop device, and a real power cut of it: `xfs_io -x -c shutdown`
 * makes the kernel drop everything not yet committed to the device, exactly as xfstests
 * simulates a power loss (it works on ext4 and XFS alike). Needs root, losetup/mount and
 * xfs_io (Debian's xfsprogs; scripts/install-test-tools.sh installs it).
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

/** How long an unmount waits for a busy mount to be let go. */
const UNMOUNT_BUSY_MS = 5000;

const run = promisify(execFile);

export type FsType = "ext4" | "xfs";

/** Why real power cuts cannot run here, or undefined when they can. */
export function powerCutUnavailable(fsType: FsType): string | undefined {
  if (process.getuid?.() !== 0) return "not root: loop mounts need root";
  for (const tool of ["losetup", "mount", "umount", "xfs_io", fsType === "xfs" ? "mkfs.xfs" : "mkfs.ext4"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

export class LoopFileSystem {
  readonly mountPoint: string;
  private readonly image: string;

  private constructor(
    readonly fsType: FsType,
    private readonly root: string,
  ) {
    this.image = join(root, `${fsType}.img`);
    this.mountPoint = join(root, "mnt");
  }

  /** Makes a fresh file system in an image under `root`; throws (with why) if the kernel refuses. */
  static create(fsType: FsType, root: string): LoopFileSystem {
    const fs = new LoopFileSystem(fsType, root);
    mkdirSync(fs.mountPoint, { recursive: true });
    execFileSync("truncate", ["-s", "512M", fs.image]);
    if (fsType === "xfs") execFileSync("mkfs.xfs", ["-q", "-f", fs.image], { stdio: "pipe" });
    else execFileSync("mkfs.ext4", ["-q", "-F", fs.image], { stdio: "pipe" });
    fs.mount();
    fs.unmount();
    return fs;
  }

  mount(): void {
    execFileSync("mount", ["-o", "loop", this.image, this.mountPoint], { stdio: "pipe" });
  }

  /**
   * Unmounts, retrying for a few seconds while the mount is busy: a killed writer's lock helper
   * (src/io/child-file-lock.ts) holds `LOCK` open until it sees its parent's pipe close.
   */
  unmount(): void {
    const deadline = Date.now() + UNMOUNT_BUSY_MS;
    for (;;) {
      const result = spawnSync("umount", [this.mountPoint], { stdio: "pipe" });
      if (result.status === 0) return;
      const busy = String(result.stderr).includes("busy");
      if (!busy || Date.now() > deadline) throw new Error(`umount ${this.mountPoint} failed: ${String(result.stderr).trim()}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }

  /** The power cut: everything the file system had not made durable is gone after the remount. */
  async cut(): Promise<void> {
    await run("xfs_io", ["-x", "-c", "shutdown", this.mountPoint]);
  }

  /** Unmounts if mounted and removes the image. */
  destroy(): void {
    spawnSync("umount", [this.mountPoint], { stdio: "ignore" });
    rmSync(this.root, { recursive: true, force: true });
  }
}
