/** The WriteAheadLog conformance suite against the in-memory log of src/testing. */
import { forgetMemoryLogs, openMemoryLog } from "../../src/testing/memory-log.js";
import { walConformance } from "./wal-conformance.js";

const BATCH_BYTES_MAX = 16 * 1024;

walConformance({
  name: "memory log",
  payloadBytesMax: BATCH_BYTES_MAX,
  async open(directory, hooks, options) {
    const wal = await openMemoryLog(directory, hooks, { ...options, batchBytesMax: BATCH_BYTES_MAX });
    return {
      wal,
      hold: () => wal.hold(),
      release: (fail = false) => wal.release(fail),
      get durableSteps() {
        return wal.stats().fsyncs;
      },
    };
  },
  forget: (directory) => forgetMemoryLogs(directory),
});
