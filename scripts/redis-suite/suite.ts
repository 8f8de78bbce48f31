/**
 * Where Redis's test suite lives on this machine, and getting it there with fetch.sh (Debian's
 * source package; see that script).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REDIS_SUITE_VERSION = "7.0.15";

const FETCH_SCRIPT = fileURLToPath(new URL("./fetch.sh", import.meta.url));
const MARKER = ".logbook-suite-complete";
const FETCH_TIMEOUT_MS = 10 * 60_000;

/** The suite could not be obtained (no network, no apt, no tclsh and not root to install it). */
export class SuiteUnavailable extends Error {
  override name = "SuiteUnavailable";
}

export function defaultSuiteDir(): string {
  return process.env.LOGBOOK_REDIS_SUITE_DIR ?? `/var/tmp/logbook-redis-suite/redis-${REDIS_SUITE_VERSION}`;
}

export function suitePresent(dir: string): boolean {
  return existsSync(join(dir, MARKER)) && existsSync(join(dir, "runtest"));
}

/** Runs fetch.sh (quick when the suite is there already) and returns the suite directory. */
export function ensureSuite(dir = defaultSuiteDir()): string {
  const run = spawnSync(FETCH_SCRIPT, [], {
    env: { ...process.env, LOGBOOK_REDIS_SUITE_DIR: dir },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: FETCH_TIMEOUT_MS,
  });
  if (run.error !== undefined) throw new SuiteUnavailable(`could not run ${FETCH_SCRIPT}: ${run.error.message}`);
  if (run.status !== 0 || !suitePresent(dir)) {
    const said = `${run.stderr}`.trim().split("\n").slice(-12).join("\n");
    throw new SuiteUnavailable(
      `Redis ${REDIS_SUITE_VERSION}'s test suite is unavailable (fetch.sh exit ${run.status}):\n${said}`,
    );
  }
  return dir;
}
