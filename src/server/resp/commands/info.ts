/**
 * INFO [section ...] (server.c, infoCommand): the named sections, in Redis's fixed order, each
 * under its `# Title` header, separated by a blank line, every line ending in CRLF. No section
 * named: the default ones; `all`: every section; `everything`: every section and the modules'.
 * Section names are case-insensitive; an unknown one adds nothing.
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk } from "../reply.js";
import {
  clientsSection,
  commandStatsSection,
  cpuSection,
  errorStatsSection,
  type InfoLines,
  keyspaceSection,
  memorySection,
  persistenceSection,
  replicationSection,
  serverSection,
  statsSection,
} from "./info-sections.js";

interface Section {
  /** The name INFO takes; `aliases` are other names that select it. */
  name: string;
  title: string;
  aliases?: readonly string[];
  lines(context: CommandContext): InfoLines;
}

/** Every section, in the order Redis prints them. */
const SECTIONS: readonly Section[] = [
  { name: "server", title: "Server", lines: (c) => serverSection(c.host) },
  { name: "clients", title: "Clients", lines: (c) => clientsSection(c.host) },
  { name: "memory", title: "Memory", lines: (c) => memorySection(c.host) },
  { name: "persistence", title: "Persistence", lines: (c) => persistenceSection(c.host) },
  { name: "stats", title: "Stats", lines: (c) => statsSection(c.host) },
  { name: "replication", title: "Replication", lines: (c) => replicationSection(c.host) },
  { name: "cpu", title: "CPU", lines: () => cpuSection() },
  { name: "module_list", title: "Modules", aliases: ["modules"], lines: () => [] },
  { name: "commandstats", title: "Commandstats", lines: (c) => commandStatsSection(c.host) },
  { name: "errorstats", title: "Errorstats", lines: (c) => errorStatsSection(c.host) },
  { name: "latencystats", title: "Latencystats", lines: () => [] },
  { name: "cluster", title: "Cluster", lines: () => ["cluster_enabled:0"] },
  { name: "keyspace", title: "Keyspace", lines: (c) => keyspaceSection(c) },
];

const DEFAULT_SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "module_list",
  "errorstats",
  "cluster",
  "keyspace",
];

/** The sections INFO's arguments select (genInfoSectionDict): all of them for `all` and `everything`. */
function selectedSections(args: readonly string[]): readonly Section[] {
  if (args.length === 0) return SECTIONS.filter((s) => DEFAULT_SECTIONS.includes(s.name));
  const names = new Set<string>();
  for (const arg of args) {
    const name = arg.toLowerCase();
    if (name === "all" || name === "everything") return SECTIONS;
    if (name === "default") for (const section of DEFAULT_SECTIONS) names.add(section);
    else names.add(name);
  }
  return SECTIONS.filter((s) => names.has(s.name) || s.aliases?.some((alias) => names.has(alias)));
}

/** The text of INFO for `args` (the section names): what a client parses. */
export function infoText(context: CommandContext, args: readonly string[]): string {
  return selectedSections(args)
    .map((section) => [`# ${section.title}`, ...section.lines(context)].map((line) => `${line}\r\n`).join(""))
    .join("\r\n");
}

export const infoCommand: CommandSpec = {
  name: "info",
  arity: -1,
  flags: ["loading", "stale"],
  categories: ["@slow", "@dangerous"],
  summary: "Get information and statistics about the server",
  run: (context, args) => bulk(infoText(context, args.slice(1))),
};
