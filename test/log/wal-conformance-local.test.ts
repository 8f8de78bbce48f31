/**
 * The WriteAheadLog conformance suite against the local log. Its durability step is the
 * fdatasync of a segment: the disk here is node:fs with those fdatasyncs (and writes that
 * fdatasync as they go) held at a gate while a test asks, then passed on or failed with EIO.
 * The wrapped disk exposes no descriptor, so the log commits through these methods.
 */
import type { FileHandle } from "../../src/io/file-system.js";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { openLocalWal } from "../../src/log/index.js";
import { payloadBytesMax } from "../../src/log/options.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { walConformance } from "./wal-conformance.js";

const BATCH_BYTES_MAX = 16 * 1024;

class DurabilityGate {
  steps = 0;
  private held: Promise<void> | undefined;
  private releaseHeld: () => void = () => undefined;
  private failing = false;
  readonly fileSystem = wrapFileSystem(new NodeFileSystem(), {
    handle: (inner) =>
      inner.path.endsWith(".log")
        ? {
            write: async (data, position, options) => {
              await inner.write(data, position);
              if (options?.datasync === true) await this.datasync(inner);
            },
            datasync: () => this.datasync(inner),
          }
        : {},
  });

  hold(): void {
    this.held ??= new Promise<void>((resolve) => {
      this.releaseHeld = resolve;
    });
  }

  release(fail: boolean): void {
    if (fail) this.failing = true;
    this.held = undefined;
    this.releaseHeld();
  }

  private async datasync(inner: FileHandle): Promise<void> {
    await this.held;
    if (this.failing) throw Object.assign(new Error("EIO: injected fault, fdatasync"), { code: "EIO" });
    await inner.datasync();
    this.steps++;
  }
}

walConformance({
  name: "local log",
  payloadBytesMax: payloadBytesMax(BATCH_BYTES_MAX),
  async open(directory, hooks, options) {
    const gate = new DurabilityGate();
    const wal = await openLocalWal(
      directory,
      { ...options, segmentBytes: 16 * 1024 + 64, batchBytesMax: BATCH_BYTES_MAX, fileSystem: gate.fileSystem },
      hooks,
    );
    return {
      wal,
      hold: () => gate.hold(),
      release: (fail = false) => gate.release(fail),
      get durableSteps() {
        return gate.steps;
      },
    };
  },
});
