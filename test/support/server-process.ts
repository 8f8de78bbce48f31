/**
 * `logbook serve` in a child process, as `npm start` runs it: the built `dist/cli/main.js`
 * (npm test builds first), on 127.0.0.1 and a free port. Killed only by pid, by the test that
 * started it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Every line the server logged to stdout, parsed. */
  logs: Record<string, unknown>[];
  /** The lines of stdout that are not JSON: what node or V8 printed when a flag asked them to. */
  otherLines: string[];
  exited: Promise<number | null>;
}

export function runCli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): ChildProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  return spawn(process.execPath, [...nodeArgs, MAIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // No Redis endpoint unless a test asks for one (--resp-port wins over the variable): tests
    // run side by side and must not all take the default port.
    env: { ...process.env, LOGBOOK_RESP_PORT: "0", ...env },
  });
}

export interface StartOptions {
  timeoutMs?: number;
  /** Arguments for node itself, before the script (V8 flags, for one). */
  nodeArgs?: string[];
}

/** Starts `logbook serve` and resolves once it listens (or rejects with what it printed). */
export function startServerProcess(
  args: string[],
  env: Record<string, string> = {},
  { timeoutMs = 30_000, nodeArgs = [] }: StartOptions = {},
): Promise<ServerProcess> {
  const child = runCli(["serve", "--host", "127.0.0.1", "--port", "0", ...args], env, nodeArgs);
  const logs: Record<string, unknown>[] = [];
  const otherLines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffered = "";
    let errors = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not start in ${timeoutMs} ms: ${errors}`));
    }, timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf("\n");
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          otherLines.push(line);
          continue;
        }
        logs.push(entry);
        if (entry.msg === "logbook is serving") {
          clearTimeout(timer);
          resolve({ child, url: String(entry.address), logs, otherLines, exited });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${errors}`));
    });
  });
}

export function killProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Collects a finished CLI run's exit code and output. */
export function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}
