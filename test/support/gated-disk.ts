/**
 * node:fs with the segments' writes and fdatasyncs behind gates a test holds: it keeps a write
 * sequenced and not yet written, or written and not yet durable, for as long as the test needs,
 * and can then fail it. Handles have no descriptor (src/testing/wrap-file-system.ts), so the
 * log commits through the gated methods.
 */
import type { FileSystem } from "../../src/io/file-system.js";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { wrapFileSystem } from "../../src/testing/index.js";

/** A held gate lets go on its own after this, so that a failing test still closes its log. */
const GATE_HOLD_MS_MAX = 10_000;

/** Calls that wait while the gate is held, then go on, or fail with an errno error. */
export class Gate {
  private held: { promise: Promise<void>; release: () => void; timer: NodeJS.Timeout } | undefined;
  private failWith: string | undefined;

  /** Holds the calls from now on, until `release` or at the latest `holdMsMax`. */
  hold(holdMsMax = GATE_HOLD_MS_MAX): void {
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held = { promise, release, timer: setTimeout(() => this.release(), holdMsMax) };
  }

  /** Lets the held calls go on; with `errnoCode` they, and every later one, fail with it. */
  release(errnoCode?: string): void {
    this.failWith = errnoCode;
    if (this.held === undefined) return;
    clearTimeout(this.held.timer);
    this.held.release();
    this.held = undefined;
  }

  async pass(syscall: string): Promise<void> {
    await this.held?.promise;
    if (this.failWith === undefined) return;
    const error = new Error(`${this.failWith}: injected fault, ${syscall}`) as NodeJS.ErrnoException;
    error.code = this.failWith;
    error.syscall = syscall;
    throw error;
  }
}

/** node:fs with the segments' writes and fdatasyncs behind gates, and the order in which they returned or began. */
export class GatedDisk {
  readonly writes = new Gate();
  readonly syncs = new Gate();
  readonly events: ("write returned" | "fdatasync began" | "fdatasync returned")[] = [];
  readonly fileSystem: FileSystem = wrapFileSystem(new NodeFileSystem(), {
    handle: (inner) => {
      if (!inner.path.endsWith(".log")) return {};
      return {
        write: async (data, position, options) => {
          await this.writes.pass("write");
          await inner.write(data, position, options);
          this.events.push("write returned");
        },
        datasync: async () => {
          this.events.push("fdatasync began");
          await this.syncs.pass("fdatasync");
          await inner.datasync();
          this.events.push("fdatasync returned");
        },
      };
    },
  });
}
