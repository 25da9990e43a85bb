/**
 * Writes result files so a reader never sees half of one: write a temporary
 * file beside the target, then rename it over the target (rename is atomic
 * within one filesystem).
 *
 * @module
 */

/**
 * Writes text to a file atomically: a temporary sibling, then a rename.
 *
 * @param path The file to (re)place.
 * @param text Its new contents.
 * @returns Resolves once the file is in place.
 * @throws {Deno.errors.NotFound} When the directory does not exist (nothing is left behind).
 *
 * @example Usage
 * ```ts ignore
 * import { writeTextFileAtomic } from "./atomic_write.ts";
 * await writeTextFileAtomic("stats.json", JSON.stringify({ ok: true }));
 * ```
 */
export async function writeTextFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}
