/**
 * The two servers bench:resp loads, each started fresh in a directory of its own and stopped
 * (SIGKILL by pid) before the other starts, so they never share the machine:
 *   - `logbook serve` from the compiled code (dist/), as `npm start` runs it (metrics and the
 *     access log on), with its Redis endpoint on a free port and `--sync always`, its default;
 *   - Debian's `redis-server` with `appendonly yes`, `appendfsync always`, `save ""`: the peer
 *     that promises the same durability. Its settings are read back with CONFIG GET, so a
 *     reference that quietly runs weaker is refused rather than measured.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KEYSPACE, VALUE_BYTES } from "./resp-benchmark.js";
import { freePort } from "./server-process.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
/** How long a server may take to answer PING after it is spawned. */
const START_TIMEOUT_MS = 30_000;
const START_POLL_MS = 100;
const START_ATTEMPTS = 3;

export type RespSystem = "logbook" | "redis";

export interface RespTarget {
  system: RespSystem;
  port: number;
  child: ChildProcess;
  /** Where the server keeps its data; removed by stop(). */
  dir: string;
}

/** `redis-cli` against 127.0.0.1:port, non-interactive (raw replies, one per line). */
export function redisCli(port: number, args: readonly string[], input?: string | Buffer) {
  return spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    encoding: "utf8",
    input,
    timeout: 120_000,
    maxBuffer: 16 * 2 ** 20,
  });
}

/** Whether a program is on the PATH. */
export function onPath(program: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).status === 0;
}

/** Whether dist/ holds the compiled server (`npm run build`). */
export function compiledServerExists(): boolean {
  return existsSync(MAIN);
}

export async function startTarget(system: RespSystem, dir: string): Promise<RespTarget> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    mkdirSync(dir, { recursive: true });
    const child = system === "logbook" ? spawnLogbook(dir, port) : spawnRedis(dir, port);
    const target: RespTarget = { system, port, child, dir };
    if (await answersPing(target)) {
      if (system === "redis") checkRedisDurability(port);
      return target;
    }
    await stopTarget(target);
    if (attempt >= START_ATTEMPTS) throw new Error(`${system} did not answer PING on port ${port}; see ${dir}.log`);
  }
}

function spawnLogbook(dir: string, port: number): ChildProcess {
  // The server's log goes to a file, as in production: a pipe read by this process would
  // throttle the server instead of measuring it.
  const log = openSync(`${dir}.log`, "w");
  const args = [
    "serve",
    "--data-dir",
    dir,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--resp-port",
    String(port),
    "--sync",
    "always",
  ];
  // Settings come from the flags alone, not from LOGBOOK_* variables of the shell that runs the bench.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LOGBOOK_")));
  const child = spawn(process.execPath, [MAIN, ...args, "--no-checkpoint-on-exit"], { stdio: ["ignore", log, log], env });
  closeSync(log);
  return child;
}

function spawnRedis(dir: string, port: number): ChildProcess {
  const log = openSync(`${dir}.log`, "w");
  const settings = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no"];
  const durability = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];
  const child = spawn("redis-server", [...settings, ...durability], { stdio: ["ignore", log, log] });
  closeSync(log);
  return child;
}

async function answersPing(target: RespTarget): Promise<boolean> {
  for (let waited = 0; waited < START_TIMEOUT_MS; waited += START_POLL_MS) {
    if (target.child.exitCode !== null || target.child.signalCode !== null) return false;
    if (redisCli(target.port, ["PING"]).stdout?.trim() === "PONG") return true;
    await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
  }
  return false;
}

/** The reference's durability settings as CONFIG GET reports them: `appendonly yes`, `appendfsync always`. */
export function redisDurability(port: number): { appendonly: string; appendfsync: string } {
  const read = (name: string) => redisCli(port, ["CONFIG", "GET", name]).stdout.trim().split("\n")[1]?.trim() ?? "";
  return { appendonly: read("appendonly"), appendfsync: read("appendfsync") };
}

function checkRedisDurability(port: number): void {
  const found = redisDurability(port);
  if (found.appendonly !== "yes" || found.appendfsync !== "always") {
    throw new Error(`redis-server runs with ${JSON.stringify(found)}, not appendonly yes + appendfsync always`);
  }
}

/** Kills the server by its pid, waits for it to exit, removes its data and log. */
export async function stopTarget(target: RespTarget): Promise<void> {
  const { child } = target;
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGKILL");
    await exited;
  }
  rmSync(target.dir, { recursive: true, force: true });
  rmSync(`${target.dir}.log`, { force: true });
}

/** A command in RESP's multibulk form, as clients send it. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** `key:000000000042`: the key redis-benchmark's `key:__rand_int__` names for 42. */
export function benchmarkKey(n: number): string {
  return `key:${String(n).padStart(12, "0")}`;
}

/**
 * Commands per `redis-cli --pipe` run of the preload. Logbook refuses a write with TRYAGAIN
 * when its in-flight writes pass `inFlightWritesMax` (8,192 by default), and one --pipe run
 * puts all of its commands in flight at once.
 */
const PRELOAD_BATCH = 2_000;

/**
 * Writes every key of the keyspace (100-byte values, as `-d 100` SETs them) through
 * `redis-cli --pipe`, so every GET of the run finds a value. Throws unless redis-cli reports
 * no errors and a reply per command.
 */
export function preloadKeyspace(port: number): void {
  const value = "x".repeat(VALUE_BYTES);
  for (let first = 0; first < KEYSPACE; first += PRELOAD_BATCH) {
    const parts: string[] = [];
    const end = Math.min(KEYSPACE, first + PRELOAD_BATCH);
    for (let n = first; n < end; n++) parts.push(encodeCommand(["SET", benchmarkKey(n), value]));
    const run = redisCli(port, ["--pipe"], parts.join(""));
    const output = `${run.stdout}${run.stderr}`;
    const report = /errors: (\d+), replies: (\d+)/.exec(output);
    if (run.status !== 0 || report === null || report[1] !== "0" || Number(report[2]) !== end - first) {
      throw new Error(`preloading keys with redis-cli --pipe failed: ${output.trim().split("\n").slice(0, 4).join(" ")}`);
    }
  }
}
