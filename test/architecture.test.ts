import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import * as api from "../src/index.js";

/** The layers, lowest first: each may import those before it, never one after it. */
const LAYERS = ["io", "log", "streams", "store", "server", "cli"] as const;
const rank = (layer: string) => LAYERS.indexOf(layer as (typeof LAYERS)[number]);
/** src/testing (the `logbook/testing` export) stands beside the layers: it may use their front doors, none uses it. */
const TESTING = "testing";
/** The leaves: files at the top of src that import nothing of ours, which any layer may use. */
const LEAVES = ["errors.ts", "assert.ts", "start-worker.ts", "version.ts"];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports, and dynamic `import()` of a literal. */
function imports(path: string): string[] {
  const source = readFileSync(path, "utf8");
  const found = source.matchAll(/(?:import|export)[^"';]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g);
  return [...found].map((m) => (m[1] ?? m[2]) as string);
}

/** Each relative import of a file under src, as a path relative to src (a .ts file). */
function sourceImports(file: string): string[] {
  return imports(file)
    .filter((s) => s.startsWith("."))
    .map((s) => relative("src", join(file, "..", s)).replace(/\.js$/, ".ts"));
}

test("imports point down the layers only (cli → server → store → streams → log → io)", () => {
  for (const file of files("src")) {
    const from = relative("src", file).split("/")[0] as string;
    for (const target of sourceImports(file)) {
      const to = target.split("/")[0] as string;
      if (from !== TESTING) assert.notEqual(to, TESTING, `${file} imports ${target}: production code may not import src/testing`);
      if (from === TESTING || to === from || LEAVES.includes(target) || from.endsWith(".ts")) continue;
      assert.ok(rank(to) >= 0 && rank(to) < rank(from), `${file} imports ${target}: ${from} may not import ${to}`);
    }
  }
});

test("a directory with an index.ts is entered only through it (each layer's front door, the telemetry wing's)", () => {
  const doors = files("src")
    .filter((f) => f.endsWith("/index.ts") && f !== join("src", "index.ts"))
    .map((f) => relative("src", join(f, "..")));
  assert.ok(
    ["io", "log", "streams", "store", "server", "server/telemetry", TESTING].every((d) => doors.includes(d)),
    `front doors: ${doors}`,
  );
  for (const file of files("src")) {
    const here = relative("src", join(file, ".."));
    for (const target of sourceImports(file)) {
      for (const door of doors) {
        const inside = target.startsWith(`${door}/`);
        const fromInside = here === door || here.startsWith(`${door}/`);
        if (inside && !fromInside) assert.equal(target, `${door}/index.ts`, `${file} imports ${target}, behind ${door}/index.ts`);
      }
    }
  }
});

test("the leaves import nothing of ours", () => {
  for (const leaf of LEAVES) {
    assert.deepEqual(
      imports(join("src", leaf)).filter((s) => s.startsWith(".")),
      [],
      leaf,
    );
  }
});

test("sim/ and bench/ import no test/ file (what they share with tests lives in src/testing)", () => {
  for (const file of [...files("sim"), ...files("bench")]) {
    const source = readFileSync(file, "utf8");
    const references = [...source.matchAll(/(?:from\s+|import\(\s*|new URL\(\s*)["']([^"']+)["']/g)].map((m) => m[1] as string);
    for (const specifier of references.filter((s) => s.startsWith("."))) {
      const target = relative(".", join(file, "..", specifier));
      assert.ok(!target.startsWith("test/"), `${file} imports ${specifier}, a test file`);
    }
  }
});

test("the core log has zero runtime dependencies: src/io and src/log import node:* only", () => {
  for (const file of files("src").filter((f) => /src\/(io|log)\//.test(f))) {
    for (const specifier of imports(file)) {
      assert.ok(specifier.startsWith(".") || specifier.startsWith("node:"), `${file} imports ${specifier}`);
    }
  }
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  assert.deepEqual(
    Object.keys(pkg.dependencies ?? {}).sort(),
    [
      "@opentelemetry/api",
      "@opentelemetry/core",
      "@opentelemetry/exporter-trace-otlp-http",
      "@opentelemetry/resources",
      "@opentelemetry/sdk-trace-base",
      "commander",
      "fastify",
      "pino",
      "prom-client",
      "typebox",
    ],
    "runtime dependencies: the CLI (commander), the server (fastify, pino, typebox, prom-client, OpenTelemetry); the log and the store none",
  );
  for (const file of files("src").filter((f) => /src\/store\//.test(f))) {
    for (const specifier of imports(file)) {
      const allowed = specifier.startsWith(".") || specifier.startsWith("node:");
      assert.ok(allowed, `${file} imports ${specifier}`);
    }
  }
});

test("the public surface is what index.ts lists", () => {
  assert.deepEqual(Object.keys(api).sort(), ["Log", "LogbookError", "NodeFileSystem", "Store", "isLogbookError"]);
});
