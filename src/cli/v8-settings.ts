/**
 * The V8 settings of a process `logbook` runs (the server above all). They live in the CLI: a
 * library does not change its embedder's V8.
 *
 * Allocation-site pretenuring is off. V8 samples, per object literal in the code, how many of
 * its objects survive a young-generation collection; once a site passes 85% it allocates that
 * site's objects straight in the old generation, and the decision stands for the rest of the
 * process. A server's per-request objects live while their write waits for its fsync, so during
 * a busy second (or while the young generation is still small, at start) a per-request site can
 * pass the line. Then each of its objects dies in the old generation, where, until the next full
 * collection, it keeps alive every young object it points to (the request, its buffers), which
 * every scavenge copies and promotes, for the rest of the process's life. With pretenuring off,
 * no site is ever tenured (measurements: docs/benchmarks.md; advice: docs/observability.md).
 */
import { setFlagsFromString } from "node:v8";

const PRETENURING = "--allocation-site-pretenuring";

/** Applies the settings, unless node was started with `--allocation-site-pretenuring` (the operator's choice stands). */
export function applyV8Settings(execArgv: readonly string[]): void {
  if (execArgv.some((arg) => arg.replaceAll("_", "-") === PRETENURING)) return;
  setFlagsFromString(`--no-${PRETENURING.slice(2)}`);
}
