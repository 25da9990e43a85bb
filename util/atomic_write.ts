/**
 * Atomic file replacement: readers see the old file or the complete new one,
 * never a half-written result (a crash or Ctrl-C mid-write leaves the old file).
 *
 * @example Usage
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/result.json`, '{"ok": true}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { EchokitError } from "./errors.ts";

/**
 * Writes `text` to a temporary file in the target's directory, flushes it to
 * disk, then renames it over `path` (rename is atomic within one file system).
 *
 * @param path The file to create or replace.
 * @param text Its new content (UTF-8).
 * @param options `what`: the flag or thing the path came from, named in the
 *   error (`Cannot write --json "out/r.json": …`).
 * @returns When the file is in place.
 * @throws {EchokitError} `Cannot write "out/r.json": …` when the directory is
 *   missing or not writable; the temporary file is removed.
 *
 * @example Usage
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * const path = await Deno.makeTempFile();
 * await writeFileAtomic(path, "done\n");
 * await Deno.remove(path);
 * ```
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: { what?: string } = {},
): Promise<void> {
  // Same directory as the target, so the rename never crosses file systems.
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const temp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${
    crypto.randomUUID().slice(0, 8)
  }.tmp`;
  let created = false;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true });
    created = true;
    try {
      const bytes = new TextEncoder().encode(text);
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
    created = false;
  } catch (err) {
    if (created) await Deno.remove(temp).catch(() => {});
    const why = fileErrorReason(err, "the directory does not exist");
    const what = options.what ? `${options.what} ` : "";
    throw new EchokitError(`Cannot write ${what}"${path}": ${why}`, { cause: err });
  }
}

/**
 * Why a file could not be read or written, in the user's words, for the end
 * of an error message: `Cannot read --plan file "p.json": no such file`.
 *
 * @param err What the file call threw.
 * @param notFound What `NotFound` means here. @default {"no such file"}
 * @returns The reason, lower case, no trailing period.
 *
 * @example Usage
 * ```ts
 * import { fileErrorReason } from "./atomic_write.ts";
 * try {
 *   await Deno.readTextFile("/no/such/file");
 * } catch (err) {
 *   console.log(fileErrorReason(err)); // no such file
 * }
 * ```
 */
export function fileErrorReason(err: unknown, notFound = "no such file"): string {
  return err instanceof Deno.errors.NotFound
    ? notFound
    : err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : err instanceof Deno.errors.IsADirectory
    ? "it is a directory"
    : err instanceof Error
    ? err.message
    : String(err);
}
