import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import * as api from "../src/index.js";

// src/testing (the test doubles behind logbook/testing) sits on top: it may use any layer, none uses it.
const LAYERS = ["io", "log", "store", "streams", "server", "cli", "testing"] as const;
const rank = (layer: string) => LAYERS.indexOf(layer as (typeof LAYERS)[number]);
/**
 * src/testing (the `logbook/testing` export) stands beside the layers, out of their reach: no
 * production layer imports it, and it reaches the layers below it only through these front
 * doors (src/io has no single one: its interface files), besides the leaves.
 */
const TESTING = "testing";
const TESTING_MAY_IMPORT = [
  "io/file-system.ts",
  "io/clock.ts",
  "io/node-file-system.ts",
  "log/log.ts",
  "log/contract.ts",
  "store/store.ts",
];
/** The leaves: files at the top of src that import nothing of ours. */
const LEAVES = ["errors.ts", "assert.ts"];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function imports(path: string): string[] {
  const source = readFileSync(path, "utf8");
  return [...source.matchAll(/(?:import|export)[^"']*from\s+["']([^"']+)["']/g)].map((m) => m[1] as string);
}

test("imports point down the layers only (cli → server → streams → store → log → io)", () => {
  for (const file of files("src")) {
    const from = relative("src", file).split("/")[0] as string;
    for (const specifier of imports(file)) {
      if (!specifier.startsWith(".")) continue;
      const target = relative("src", join(file, "..", specifier)).split("/")[0] as string;
      if (from === TESTING) continue; // checked by the test below
      assert.notEqual(target, TESTING, `${file} imports ${specifier}: production code may not import src/testing`);
      if (target === from || target.endsWith(".js")) continue; // same layer, or a leaf (errors, assert)
      if (from.endsWith(".ts")) continue; // src/index.ts is the public surface; it may name anything
      assert.ok(rank(target) >= 0 && rank(target) < rank(from), `${file} imports ${specifier}: ${from} may not import ${target}`);
    }
  }
});

test("src/testing imports only the front doors of io, log and store, and the leaves", () => {
  for (const file of files(join("src", TESTING))) {
    for (const specifier of imports(file)) {
      if (!specifier.startsWith(".")) continue;
      const target = relative("src", join(file, "..", specifier)).replace(/\.js$/, ".ts");
      if (target.startsWith(`${TESTING}/`)) continue;
      assert.ok(
        LEAVES.includes(target) || TESTING_MAY_IMPORT.includes(target),
        `${file} imports ${specifier}: src/testing may import ${[...LEAVES, ...TESTING_MAY_IMPORT].join(", ")}`,
      );
    }
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

test("the store reaches src/log only through its front door (src/log/index.ts: the WriteAheadLog seam)", () => {
  for (const file of files("src/store")) {
    for (const specifier of imports(file)) {
      const target = relative("src", join(file, "..", specifier));
      if (target.startsWith("log/")) assert.equal(target, "log/index.js", `${file} imports ${specifier}`);
    }
  }
});

test("the leaves (errors, assert, breakage) import nothing of ours", () => {
  for (const leaf of ["src/errors.ts", "src/assert.ts", "src/breakage.ts"]) {
    assert.deepEqual(
      imports(leaf).filter((s) => s.startsWith(".")),
      [],
      leaf,
    );
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
