/**
 * Printing for the CLI: human-readable tables by default, one JSON document with --json.
 */

/** How a command ends when its output pipe is closed: what a shell reports for a process ended by SIGPIPE (128 + 13). */
export const CLOSED_PIPE_EXIT = 141;

/**
 * Ends the process quietly, with CLOSED_PIPE_EXIT, when stdout or stderr is a pipe whose reader
 * has gone (`logbook log dump DIR | head`): nothing more can be shown, so the command stops
 * where it is. Node ignores SIGPIPE and reports a closed pipe as an EPIPE 'error' event on the
 * stream, which would otherwise end the process with a stack trace. Stopping mid-command is
 * safe: it is a crash like any other, which the log and the store recover from, and commands
 * print only after what they write is acknowledged. Any other stream error is thrown as before.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(CLOSED_PIPE_EXIT);
      throw error;
    });
  }
}

export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  for (const row of cells) {
    process.stdout.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** Payloads shown to people: text when it is printable UTF-8, hex otherwise. */
export function describePayload(payload: Uint8Array, maxChars = 80): string {
  const decoded = new TextDecoder("utf-8", { fatal: false }).decode(payload);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(decoded);
  const shown = printable ? JSON.stringify(decoded) : `0x${Buffer.from(payload.subarray(0, maxChars / 2)).toString("hex")}`;
  return shown.length > maxChars ? `${shown.slice(0, maxChars - 1)}…` : shown;
}
