/**
 * The store's small JSON files (MANIFEST, FEED-CURSORS, a checkpoint's streams file): a JSON
 * document followed by a line `crc32 <8 hex digits>`, the CRC-32 of the JSON text's UTF-8
 * bytes, replaced atomically: written to `<name>.tmp`, fdatasynced, renamed over `<name>`, and
 * the directory fsynced. A crash before the rename leaves the old file (and a `.tmp` the next
 * write or open removes); after it, before the directory sync, either file may be found, each
 * whole.
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { crc32 } from "../log/index.js";

function checksumOf(body: string): string {
  return crc32(new TextEncoder().encode(body)).toString(16).padStart(8, "0");
}

/** Writes `value` as `<directory>/<name>`, durably (see above). */
export async function writeChecksummedJson(
  fs: FileSystem,
  directory: string,
  name: string,
  value: unknown,
  indent?: number,
): Promise<void> {
  const body = JSON.stringify(value, null, indent);
  const temporary = join(directory, `${name}.tmp`);
  if ((await fs.list(directory)).includes(`${name}.tmp`)) await fs.unlink(temporary);
  const handle = await fs.open(temporary, "create");
  try {
    await handle.write(new TextEncoder().encode(`${body}\ncrc32 ${checksumOf(body)}\n`), 0, { datasync: true });
  } finally {
    await handle.close();
  }
  // The rename is the commit point; until the directory is synced a power cut may undo it.
  await fs.rename(temporary, join(directory, name));
  await fs.syncDirectory(directory);
}

/**
 * The JSON value of `<directory>/<name>`, its checksum verified (LOGBOOK_CORRUPTION when it does
 * not match); the caller checks its shape.
 */
export async function readChecksummedJson(fs: FileSystem, directory: string, name: string): Promise<unknown> {
  const path = join(directory, name);
  const handle = await fs.open(path, "read");
  let text: string;
  try {
    const bytes = new Uint8Array(await handle.sizeBytes());
    await handle.read(bytes, 0);
    text = new TextDecoder().decode(bytes);
  } finally {
    await handle.close();
  }
  const match = /^([\s\S]*)\ncrc32 ([0-9a-f]{8})\n$/.exec(text);
  const body = match?.[1];
  if (body === undefined || match?.[2] !== checksumOf(body)) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} is damaged (checksum mismatch)`, { file: path });
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} is not JSON`, { file: path, cause: error });
  }
}
