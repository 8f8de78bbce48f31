/**
 * The two servers the suite runs against, each started on a free 127.0.0.1 port with its data
 * in a fresh directory and its output in a log file, and stopped by its pid:
 *   redis    Debian's redis-server, durable as Logbook is (appendonly yes, appendfsync always)
 *   logbook  `logbook serve` from the built dist/, its Redis-protocol listener on the port
 * A server is ready when it answers PING with +PONG.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { killNow, track, untrack } from "./children.js";

export type TargetName = "redis" | "logbook";

export interface TargetServer {
  readonly target: TargetName;
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  /** How the server ended when nobody asked it to, or undefined while it runs (or once stopped). */
  unexpectedExit(): string | undefined;
  /** Its first and last lines of output (a startup error comes first, a crash last). */
  logExcerpt(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The server's log goes here, its data into dir/data (which the caller removes). */
  dir: string;
  /** The repository whose dist/cli/main.js is `logbook`. */
  repoDir: string;
  redisServer: string;
  readyTimeoutMs: number;
}

const STOP_GRACE_MS = 10_000;
const PING_RETRY_MS = 100;

/** The one place that says how Logbook is started for the suite (the serve flags may still change). */
export function logbookCommand(repoDir: string, dataDir: string, respPort: number): { file: string; args: string[] } {
  const main = join(repoDir, "dist", "cli", "main.js");
  const serve = ["serve", "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0", "--resp-port", String(respPort)];
  return { file: process.execPath, args: [main, ...serve, "--log-level", "warn"] };
}

export function redisCommand(redisServer: string, dir: string, port: number): { file: string; args: string[] } {
  const durable = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];
  return {
    file: redisServer,
    args: ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no", ...durable],
  };
}

/** `redis-server --version`'s "v=…" field, or undefined when it cannot run. */
export function redisServerVersion(redisServer: string): string | undefined {
  try {
    const text = execFileSync(redisServer, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return /v=(\S+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function startTarget(target: TargetName, options: StartOptions): Promise<TargetServer> {
  const port = await freePort();
  const logFile = join(options.dir, "server.log");
  const dataDir = join(options.dir, "data");
  mkdirSync(dataDir, { recursive: true });
  const command =
    target === "redis" ? redisCommand(options.redisServer, dataDir, port) : logbookCommand(options.repoDir, dataDir, port);
  const out = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command.file, command.args, { cwd: options.dir, stdio: ["ignore", out, out] });
  } finally {
    closeSync(out);
  }
  const server = watch(target, child, port, logFile);
  try {
    await waitForPong(port, server, options.readyTimeoutMs);
  } catch (error) {
    await server.stop();
    throw new Error(`${target} did not start: ${(error as Error).message}\n${server.logExcerpt()}`);
  }
  return server;
}

function watch(target: TargetName, child: ChildProcess, port: number, logFile: string): TargetServer {
  let exit: string | undefined;
  let stopping = false;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = signal === null ? `exited with code ${code}` : `killed by ${signal}`;
      resolve();
    });
    child.once("error", (error) => {
      exit = `could not start: ${error.message}`;
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) track(pid);
  return {
    target,
    pid,
    port,
    logFile,
    unexpectedExit: () => (stopping ? undefined : exit),
    logExcerpt: () => excerpt(logFile),
    stop: async () => {
      stopping = true;
      if (exit === undefined && pid > 0) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => killNow(pid), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      untrack(pid);
    },
  };
}

const EXCERPT_HEAD_LINES = 8;
const EXCERPT_TAIL_LINES = 15;

function excerpt(file: string): string {
  let lines: string[];
  try {
    lines = readFileSync(file, "utf8").trimEnd().split("\n");
  } catch {
    return "";
  }
  if (lines.length <= EXCERPT_HEAD_LINES + EXCERPT_TAIL_LINES) return lines.join("\n");
  return [...lines.slice(0, EXCERPT_HEAD_LINES), "…", ...lines.slice(-EXCERPT_TAIL_LINES)].join("\n");
}

async function waitForPong(port: number, server: TargetServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    const exit = server.unexpectedExit();
    if (exit !== undefined) throw new Error(exit);
    last = await ping(port).catch((error: Error) => error.message);
    if (last.startsWith("+PONG")) return;
    await new Promise((resolve) => setTimeout(resolve, PING_RETRY_MS));
  }
  throw new Error(`no +PONG on port ${port} within ${timeoutMs} ms (last: ${JSON.stringify(last.slice(0, 200))})`);
}

/** One PING in RESP; resolves with the first reply line. */
function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(2000, () => socket.destroy(new Error("PING timed out")));
    socket.once("error", reject);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf("\r\n")));
      }
    });
    socket.once("close", () => resolve(answer));
    socket.write("*1\r\n$4\r\nPING\r\n");
  });
}
