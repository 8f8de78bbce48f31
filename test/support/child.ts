/**
 * Spawning test children and killing only the ones we started.
 *
 * A child is its TypeScript script bundled once per test process by esbuild (the engine tsx
 * runs on), with every import of `src/` pointed at the built `dist/` (npm test builds first):
 * plain `node` then starts it in ~0.1 s instead of ~0.45 s through the tsx loader, which is
 * what lets the SIGKILL tests run hundreds of cycles. The log's writer thread loads
 * `dist/log/commit-thread.js` next to the code that starts it, as in production.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BUNDLES = join(ROOT, "node_modules", ".cache", "logbook-test-children");
const built = new Map<string, Promise<string>>();

function bundle(script: string): Promise<string> {
  let bundled = built.get(script);
  if (bundled === undefined) {
    bundled = buildChild(script);
    built.set(script, bundled);
  }
  return bundled;
}

async function buildChild(script: string): Promise<string> {
  if (!existsSync(join(ROOT, "dist", "index.js"))) throw new Error("dist/ is missing: run npm run build (npm test does)");
  mkdirSync(BUNDLES, { recursive: true });
  const outfile = join(BUNDLES, `${script.replace(/\.ts$/, "")}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, "test", "support", script)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "error",
    plugins: [
      {
        name: "src-to-dist",
        setup(build) {
          build.onResolve({ filter: /\/src\// }, (args) => {
            const source = resolve(args.resolveDir, args.path);
            return { path: join(ROOT, "dist", relative(join(ROOT, "src"), source)), external: true };
          });
        },
      },
    ],
  });
  // One bundle per test process (two run at once); gone when it exits.
  process.once("exit", () => rmSync(outfile, { force: true }));
  return outfile;
}

/** Starts a bundled test script; `prefix` is a command that runs node, such as `["unshare", "-n"]`. */
export async function spawnTs(script: string, args: string[], prefix: readonly string[] = []): Promise<ChildProcess> {
  const [command, ...rest] = [...prefix, process.execPath, await bundle(script), ...args];
  return spawn(command as string, rest, { stdio: ["ignore", "pipe", "pipe"] });
}
/** Resolves when the child has printed a line equal to `line`, or rejects after `timeoutMs`. */
export function waitForLine(child: ChildProcess, line: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let errors = "";
    const timer = setTimeout(() => reject(new Error(`child did not print ${line} in ${timeoutMs} ms: ${errors}`)), timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.split("\n").includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing ${line}: ${errors}`));
    });
  });
}

export function killAndWait(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}
