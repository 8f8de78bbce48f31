/** The FileSystem conformance suite on node:fs, in a temporary directory: directly, and behind wrapFileSystem. */
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { tempDir } from "../support/temp.js";
import { fileSystemConformance } from "./file-system-conformance.js";

async function inTempDir(wrap: boolean) {
  const { path, cleanup } = await tempDir("logbook-fs-conformance-");
  const node = new NodeFileSystem();
  return { fileSystem: wrap ? wrapFileSystem(node) : node, root: path, cleanup };
}

fileSystemConformance({ name: "NodeFileSystem", descriptors: true, setup: () => inTempDir(false) });
fileSystemConformance({ name: "NodeFileSystem behind wrapFileSystem", descriptors: false, setup: () => inTempDir(true) });
