/**
 * The telemetry wing has one front door: outside src/server/telemetry, the sources, benchmarks
 * and simulator import only its index.ts (the wing's own unit tests may reach its files).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { test } from "node:test";

const WING = resolve("src/server/telemetry");

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function specifiers(path: string): string[] {
  const source = readFileSync(path, "utf8");
  const found = source.matchAll(/(?:import|export)[^"']*from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g);
  return [...found].map((m) => (m[1] ?? m[2]) as string);
}

test("outside the telemetry wing, only src/server/telemetry/index.ts is imported", () => {
  const outside = ["src", "bench", "sim"].flatMap(files).filter((file) => !resolve(file).startsWith(`${WING}/`));
  assert.ok(outside.length > 0);
  for (const file of outside) {
    for (const specifier of specifiers(file).filter((s) => s.startsWith("."))) {
      const target = resolve(file, "..", specifier);
      if (!target.startsWith(`${WING}/`)) continue;
      assert.equal(relative(WING, target), "index.js", `${file} imports ${specifier}`);
    }
  }
});
