/**
 * `logbook serve` in a child process for bench:server, from the compiled code (dist/) as
 * `npm start` runs it: start it on a free port with the observability asked for, wait until
 * it is ready, read its CPU time from /proc, stop it and remove its data.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

/** Which observability a server runs with; `npm start` has metrics and the access log, not tracing. */
export interface Observed {
  metrics: boolean;
  accessLog: boolean;
  /** Tracing with 1% head sampling, exported over OTLP/HTTP to `otlpUrl`. */
  tracing: boolean;
}
export const AS_NPM_START: Observed = { metrics: true, accessLog: true, tracing: false };

/** Where traced servers send their spans, and the head sampling ratio they use (--trace-ratio). */
export interface TraceExport {
  otlpUrl: string;
  traceRatio: number;
}

export async function startLogbook(
  dir: string,
  observed: Observed = AS_NPM_START,
  traceExport?: TraceExport,
  extraFlags: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const flags = [
    ...(observed.metrics ? [] : ["--no-metrics"]),
    ...(observed.accessLog ? [] : ["--no-access-log"]),
    ...extraFlags,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("OTEL_")) delete env[name];
  if (observed.tracing && traceExport !== undefined) {
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${traceExport.otlpUrl}/v1/traces`;
    env.OTEL_TRACES_EXPORTER = "otlp";
    env.OTEL_METRICS_EXPORTER = "none";
    env.OTEL_LOGS_EXPORTER = "none";
    // Head sampling at --trace-ratio, 1% by default: the usual production setting.
    env.OTEL_TRACES_SAMPLER = "parentbased_traceidratio";
    env.OTEL_TRACES_SAMPLER_ARG = String(traceExport.traceRatio);
  }
  // The server's log goes to a file, as in production; a pipe read by this busy process
  // would throttle the server instead of measuring it.
  const logFile = openSync(`${dir}.log`, "w");
  const child = spawn(
    process.execPath,
    [
      MAIN,
      "serve",
      "--data-dir",
      dir,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--no-checkpoint-on-exit",
      "--resp-port",
      "0",
      ...flags,
    ],
    { stdio: ["ignore", logFile, "inherit"], env },
  );
  closeSync(logFile);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`logbook serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) throw new Error("logbook serve did not start in 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url };
}

export async function stopLogbook(server: { child: ChildProcess }, dir: string): Promise<void> {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  if (server.child.exitCode === null) server.child.kill("SIGKILL");
  await exited;
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.log`, { force: true });
}

/** CPU seconds (user + system) used so far by a process, or by its main thread (the event loop), from /proc (Linux). */
export function cpuSeconds(pid: number, thread: "process" | "main" = "process"): number {
  const path = thread === "main" ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
  const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}
