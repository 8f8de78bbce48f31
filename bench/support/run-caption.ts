/**
 * The caption under a bench's chart: when it ran, the command that ran it, and the machine,
 * so that a chart taken out of its page still says what it measured and where.
 */
import { cpus, totalmem } from "node:os";
import { relative } from "node:path";

/** `node --import tsx bench/x.ts --flags`, with the script's path relative to the working directory. */
export function commandLine(argv: readonly string[] = process.argv, execArgv: readonly string[] = process.execArgv): string {
  const [script = "", ...args] = argv.slice(1);
  return ["node", ...execArgv, relative(process.cwd(), script) || script, ...args].join(" ");
}

export function machineLine(): string {
  const cores = cpus();
  return `node ${process.version}, ${process.platform}, ${cores.length} × ${cores[0]?.model.trim() ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

/** Lines for a chart's caption: the date and command, then the machine. */
export function runCaption(command: string = commandLine()): string[] {
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  return [`${date} UTC · ${command}`, machineLine()];
}
