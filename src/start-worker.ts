/**
 * Starts a worker thread from a module beside the caller. Built, it is the `.js` file; run
 * from the TypeScript sources (tests, benchmarks under tsx), the thread must register tsx
 * itself, since loader hooks do not carry over to workers on Node 20.
 */
import { Worker } from "node:worker_threads";

/** `callerUrl` is the caller's `import.meta.url`; `name` the module's file name without extension. */
export function startWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, callerUrl), { workerData });
  const entry = JSON.stringify(new URL(`./${name}.ts`, callerUrl).href);
  const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${entry}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
