/**
 * The package's version, as package.json states it: read once, at load, from the file one
 * directory above this module (src/ when run from source, dist/ when built; both sit beside
 * package.json).
 */
import { readFileSync } from "node:fs";

function readPackageVersion(): string {
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  const version = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== "string") throw new TypeError("package.json has no version string");
  return version;
}

export const PACKAGE_VERSION = readPackageVersion();
