/**
 * The processes the harness started, so that they die with it: on exit, SIGINT or SIGTERM each
 * tracked pid (or process group, for runtest and its Tcl clients) gets SIGKILL. Only pids the
 * harness spawned itself are ever tracked.
 */

const tracked = new Set<number>();
let hooked = false;

function killTracked(): void {
  for (const target of tracked) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  tracked.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", killTracked);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killTracked();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

/** Tracks a pid; a negative number names a process group (kill(2)'s convention). */
export function track(target: number): void {
  hookExit();
  tracked.add(target);
}

export function untrack(target: number): void {
  tracked.delete(target);
}

/** SIGKILL to a pid or process group the harness started; a target already gone is fine. */
export function killNow(target: number): void {
  try {
    process.kill(target, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
