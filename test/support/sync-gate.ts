/**
 * A disk whose segment fdatasyncs wait while a gate is held, then succeed or fail with EIO: it
 * keeps a write sequenced and not yet durable for as long as a test needs, and can then lose it.
 */
import type { FileSystem } from "../../src/io/file-system.js";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { wrapFileSystem } from "../../src/testing/index.js";

export class SyncGate {
  private held: { promise: Promise<void>; release: () => void; timer: NodeJS.Timeout } | undefined;
  private failNext = false;
  readonly fileSystem: FileSystem;

  constructor() {
    this.fileSystem = wrapFileSystem(new NodeFileSystem(), {
      handle: (inner) => ({
        datasync: async () => {
          if (inner.path.endsWith(".log")) {
            await this.held?.promise;
            if (this.failNext) {
              const error = new Error("EIO: injected fault, fdatasync") as NodeJS.ErrnoException;
              error.code = "EIO";
              throw error;
            }
          }
          await inner.datasync();
        },
      }),
    });
  }

  /**
   * Holds the segment fdatasyncs from now on, until `release` or at the latest `holdMsMax` (so
   * that a failed test still closes its store rather than waiting forever on a held commit).
   */
  hold(holdMsMax = 5000): void {
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held = { promise, release, timer: setTimeout(() => this.release(), holdMsMax) };
  }

  /** Lets the held fdatasyncs go on: they succeed, or fail with EIO when `fail`. */
  release(fail = false): void {
    this.failNext = fail;
    if (this.held === undefined) return;
    clearTimeout(this.held.timer);
    this.held.release();
    this.held = undefined;
  }
}
