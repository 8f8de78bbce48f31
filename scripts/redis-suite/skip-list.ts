/**
 * The committed skip list (skip-list.txt): tests of Redis's suite that are not run against
 * Logbook, each with a reason. Format, one entry per line:
 *   <unit> | <exact test name> | <reason>
 * Blank lines and lines starting with `#` are comments. A name starting with `/` is a regular
 * expression, as runtest's --skipfile reads it. Test names contain no " | ".
 */
import { readFileSync } from "node:fs";

export interface SkipEntry {
  unit: string;
  name: string;
  reason: string;
  line: number;
}

/** The most entries a skip list may hold: a list longer than the suite's test count is a mistake. */
export const SKIP_ENTRIES_MAX = 1000;

export function parseSkipList(text: string, source = "skip list"): SkipEntry[] {
  const entries: SkipEntry[] = [];
  const seen = new Set<string>();
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(" | ").map((field) => field.trim());
    const where = `${source}:${index + 1}`;
    if (fields.length !== 3 || fields.some((field) => field === "")) {
      throw new Error(`${where}: expected "<unit> | <test name> | <reason>", got: ${line}`);
    }
    const [unit, name, reason] = fields as [string, string, string];
    if (!/^unit\/[\w/-]+$/.test(unit)) throw new Error(`${where}: "${unit}" is not a unit name such as unit/type/string`);
    const key = `${unit}\u0000${name}`;
    if (seen.has(key)) throw new Error(`${where}: "${name}" is listed twice for ${unit}`);
    seen.add(key);
    entries.push({ unit, name, reason, line: index + 1 });
  });
  if (entries.length > SKIP_ENTRIES_MAX) throw new Error(`${source}: more than ${SKIP_ENTRIES_MAX} entries`);
  return entries;
}

export function readSkipList(path: string): SkipEntry[] {
  return parseSkipList(readFileSync(path, "utf8"), path);
}

/** Whether runtest's --skipfile matching (exact name, or a `/regexp`) selects this test. */
export function entryMatches(entry: SkipEntry, name: string): boolean {
  return entry.name.startsWith("/") ? new RegExp(entry.name.slice(1)).test(name) : entry.name === name;
}

/** The content of runtest's --skipfile for one unit: one name or `/regexp` a line. */
export function skipFileText(entries: SkipEntry[], unit: string): string {
  return entries
    .filter((entry) => entry.unit === unit)
    .map((entry) => `${entry.name}\n`)
    .join("");
}
