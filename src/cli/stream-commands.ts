/**
 * `logbook stream add|range|tail|groups|pending`: parsing and printing only. Each command
 * works on a data directory (`DIR KEY …`, keys inside a tenant's range as in `logbook store`)
 * or, with `--url`, on a running server (`KEY …`), which holds its directory's lock. Entries
 * print one per line, `<id>\t<field>=<value> …` with values as JSON strings, or as JSON lines
 * with --json.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { LogbookError } from "../errors.js";
import { printJson, printTable } from "./output.js";
import { addKeySpaceOptions, type KeySpaceOptions, keyPrefixOf } from "./store-commands.js";
import { type CliEntry, httpSource, openDirectorySource, ServerAnswerError, type StreamSource } from "./stream-source.js";

/** How long each blocking read of `tail -f --url` waits before it asks again. */
const TAIL_BLOCK_MS = 10_000;
/** Entries `tail` shows before following, unless --count says otherwise. */
const TAIL_COUNT_DEFAULT = 10;

interface StreamCommandOptions extends KeySpaceOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

function count(text: string): number {
  const value = Number(text);
  if (!/^[1-9]\d*$/.test(text.trim()) || !Number.isSafeInteger(value))
    throw new InvalidArgumentError("must be a whole number of at least 1");
  return value;
}

function usageError(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", message);
}

/** The command's arguments with the source they name: `DIR` first, unless --url names a server. */
async function withSource(
  args: string[],
  options: StreamCommandOptions,
  readOnly: boolean,
  action: (source: StreamSource, rest: string[]) => Promise<void>,
): Promise<void> {
  let source: StreamSource;
  let rest: string[];
  if (options.url !== undefined) {
    source = httpSource(options.url, options.token);
    rest = args;
  } else {
    const [dir, ...others] = args;
    if (dir === undefined) throw usageError("give a data directory (or --url)");
    source = await openDirectorySource(dir, keyPrefixOf(options), readOnly);
    rest = others;
  }
  try {
    await action(source, rest);
  } catch (error) {
    if (!(error instanceof ServerAnswerError)) throw error;
    process.stderr.write(`logbook: ${error.message} [${error.code}]\n`);
    process.exitCode = 2;
  } finally {
    await source.close();
  }
}

function printEntries(entries: readonly CliEntry[], json: boolean | undefined): void {
  for (const entry of entries) {
    if (json) process.stdout.write(`${JSON.stringify(entry)}\n`);
    else {
      const fields = (entry.fields ?? []).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(" ");
      process.stdout.write(`${entry.id}\t${fields}\n`);
    }
  }
}

function keyOf(rest: string[], usage: string): string {
  const key = rest[0];
  if (key === undefined) throw usageError(`give a stream key: ${usage}`);
  return key;
}

/** A stream subcommand with the options every one has. */
function streamCommand(parent: Command, name: string, usage: string, description: string): Command {
  const command = parent
    .command(name)
    .usage(`[options] ${usage}`)
    .description(description)
    .argument("<args...>", usage)
    .addOption(new Option("--url <url>", "a running server (http://host:port) instead of DIR"))
    .addOption(new Option("--token <token>", "bearer token for --url").env("LOGBOOK_TOKEN"))
    .option("--json", "print JSON");
  return addKeySpaceOptions(command);
}

export function registerStreamCommands(program: Command): void {
  const stream = program.command("stream").description("add to and read streams, in a directory or on a running server");
  registerAdd(stream);
  registerRange(stream);
  registerTail(stream);
  registerGroups(stream);
  registerPending(stream);
}

function registerAdd(stream: Command): void {
  const usage = "DIR KEY FIELD VALUE [FIELD VALUE…]";
  streamCommand(stream, "add", usage, "add an entry; prints its ID")
    .option("--id <id>", "the entry's ID (default *: from the clock)")
    .action((args: string[], options: StreamCommandOptions & { id?: string }) =>
      withSource(args, options, false, async (source, rest) => {
        const key = keyOf(rest, usage);
        const values = rest.slice(1);
        if (values.length === 0 || values.length % 2 !== 0) throw usageError(`give fields and values in pairs: ${usage}`);
        const fields: [string, string][] = [];
        for (let i = 0; i < values.length; i += 2) fields.push([values[i] as string, values[i + 1] as string]);
        const id = await source.add(key, fields, options.id);
        if (options.json) printJson({ key, id });
        else process.stdout.write(`${id}\n`);
      }),
    );
}

function registerRange(stream: Command): void {
  const usage = "DIR KEY";
  streamCommand(stream, "range", usage, "print entries between two IDs, oldest first")
    .option("--start <id>", "first ID (- for the first; ( before an ID excludes it)", "-")
    .option("--end <id>", "last ID (+ for the last)", "+")
    .option("--count <n>", "at most this many entries", count)
    .option("--reverse", "newest first")
    .action((args: string[], options: StreamCommandOptions & { start: string; end: string; count?: number; reverse?: boolean }) =>
      withSource(args, options, true, async (source, rest) => {
        const entries = await source.range(keyOf(rest, usage), {
          start: options.start,
          end: options.end,
          ...(options.count === undefined ? {} : { count: options.count }),
          ...(options.reverse ? { reverse: true } : {}),
        });
        printEntries(entries, options.json);
      }),
    );
}

function registerTail(stream: Command): void {
  const usage = "DIR KEY";
  streamCommand(stream, "tail", usage, "print the last entries; with -f (and --url), then each new one as it comes")
    .option("--count <n>", `entries to print first (default ${TAIL_COUNT_DEFAULT})`, count)
    .option("-f, --follow", "keep printing new entries (needs --url) until interrupted")
    .action((args: string[], options: StreamCommandOptions & { count?: number; follow?: boolean }) => {
      // A directory has one writer, this process while it reads: nothing new could come.
      if (options.follow && options.url === undefined) throw usageError("-f follows a running server's stream: give --url");
      return withSource(args, options, true, async (source, rest) => {
        const key = keyOf(rest, usage);
        const last = await source.range(key, { reverse: true, count: options.count ?? TAIL_COUNT_DEFAULT });
        last.reverse();
        printEntries(last, options.json);
        if (!options.follow) return;
        let after = last.length > 0 ? (last[last.length - 1] as CliEntry).id : "$";
        for (;;) {
          const read = await source.read(key, after, 1000, TAIL_BLOCK_MS);
          printEntries(read.entries, options.json);
          after = read.next;
        }
      });
    });
}

function registerGroups(stream: Command): void {
  const usage = "DIR KEY";
  streamCommand(stream, "groups", usage, "list a stream's consumer groups").action(
    (args: string[], options: StreamCommandOptions) =>
      withSource(args, options, true, async (source, rest) => {
        const groups = await source.groups(keyOf(rest, usage));
        if (options.json) return printJson(groups);
        printTable(
          ["GROUP", "CONSUMERS", "PENDING", "LAST DELIVERED", "LAG"],
          groups.map((g) => [
            String(g.name),
            Number(g.consumers),
            Number(g.pending),
            String(g.lastDeliveredId),
            String(g.lag ?? "?"),
          ]),
        );
      }),
  );
}

function registerPending(stream: Command): void {
  const usage = "DIR KEY GROUP";
  streamCommand(stream, "pending", usage, "summarize a group's pending entries, by consumer").action(
    (args: string[], options: StreamCommandOptions) =>
      withSource(args, options, true, async (source, rest) => {
        const group = rest[1];
        if (group === undefined) throw usageError(`give a group: ${usage}`);
        const summary = (await source.pending(keyOf(rest, usage), group)) as {
          count: number;
          smallest: string | null;
          largest: string | null;
          consumers: { name: string; count: number }[];
        };
        if (options.json) return printJson(summary);
        process.stdout.write(
          `${summary.count} pending${summary.count > 0 ? `, ${summary.smallest} to ${summary.largest}` : ""}\n`,
        );
        if (summary.consumers.length > 0)
          printTable(
            ["CONSUMER", "PENDING"],
            summary.consumers.map((c) => [c.name, c.count]),
          );
      }),
  );
}
