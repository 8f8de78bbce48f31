/**
 * What a directory holds, name by name with a SHA-256 of each file, for tests that assert an
 * operation left a directory byte-for-byte as it found it.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** Relative path → SHA-256 of its bytes (`dir/` for a directory), sorted by path. */
export async function hashTree(root: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        hashes[`${path}/`] = "dir";
        await visit(path);
      } else {
        hashes[path] = createHash("sha256")
          .update(await readFile(join(root, path)))
          .digest("hex");
      }
    }
  };
  await visit("");
  return hashes;
}
