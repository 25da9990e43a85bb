/**
 * What the binary must embed: every module the program loads at run time
 * (Worker modules, assets) found in the source, and which of them the include
 * list in `compile_config.ts` misses.
 *
 * @module
 */
import { relative } from "node:path";
import { INCLUDE_MODULES, includeList, OUTPUT_DIR } from "./compile_config.ts";
import { fileURLToPath } from "node:url";

const ROOT_URL = new URL("../", import.meta.url);

/** A file the program loads at run time, found in the source. */
export interface RuntimeLoad {
  /** The source file, relative to the root. */
  file: string;
  /** 1-based line of the reference. */
  line: number;
  /** The specifier as written. */
  specifier: string;
  /** The file it names, relative to the root; undefined when it cannot be resolved statically. */
  resolved?: string;
  /** Why it cannot be resolved, when it cannot. */
  problem?: string;
}

// The lab (bench/), build tools, fixtures and tests are not in the binary.
const SKIP_DIRS = new Set([
  ".git",
  "node_modules",
  OUTPUT_DIR,
  "bench",
  "tools",
  ".github",
  "fixtures",
]);
// Tests and benchmarks (`x_test.ts`, `x_bench.ts`, `bench.ts`, `bench_x.ts`) are not in the binary.
const NOT_SHIPPED = /(_test|_bench)\.[mc]?[jt]s$|^bench(_\w+)?\.[mc]?[jt]s$/;
const URL_REF = /new\s+URL\(\s*(["'`])((?:(?!\1)[^\\]|\\.)*)\1\s*,\s*import\.meta\.url\s*\)/g;
const WORKER_STRING = /new\s+Worker\(\s*(["'`])((?:(?!\1)[^\\]|\\.)*)\1/g;

/**
 * Finds every file the program's source loads at run time by URL: each
 * `new URL("<file>", import.meta.url)` naming a file (Worker modules, data
 * files), and each `new Worker("<string>")`, which cannot be resolved
 * reliably. Tests, benchmarks and build tools are not part of the binary and
 * are skipped.
 *
 * @param root The folder to scan. @default {the repository root}
 * @returns The references found, in file order.
 *
 * @example Usage
 * ```ts ignore
 * import { findRuntimeLoads } from "./compile_includes.ts";
 * for (const load of await findRuntimeLoads()) console.log(load.file, load.resolved);
 * ```
 */
export async function findRuntimeLoads(root: URL = ROOT_URL): Promise<RuntimeLoad[]> {
  const out: RuntimeLoad[] = [];
  const rootPath = fileURLToPath(root);
  const walk = async (dir: URL): Promise<void> => {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.isDirectory) {
        if (!SKIP_DIRS.has(entry.name)) await walk(new URL(`${entry.name}/`, dir));
        continue;
      }
      if (!/\.(ts|js|mjs|mts)$/.test(entry.name) || NOT_SHIPPED.test(entry.name)) continue;
      const url = new URL(entry.name, dir);
      const text = await Deno.readTextFile(url);
      const file = relative(rootPath, fileURLToPath(url)).replaceAll("\\", "/");
      const lineOf = (index: number) => text.slice(0, index).split("\n").length;
      // Examples in doc comments and commented-out code load nothing.
      const inComment = (index: number) =>
        /^\s*(\*|\/\/)/.test(text.slice(text.lastIndexOf("\n", index) + 1, index));
      for (const m of text.matchAll(URL_REF)) {
        if (inComment(m.index)) continue;
        const [, quote, specifier] = m;
        const load: RuntimeLoad = { file, line: lineOf(m.index), specifier };
        if (quote === "`" && specifier.includes("${")) {
          load.problem = "a computed URL cannot be embedded; use a string literal";
        } else if (!/\.[A-Za-z0-9]+$/.test(specifier.split("/").at(-1) ?? "")) {
          continue; // a folder (`new URL("../", import.meta.url)`), not a file
        } else {
          try {
            load.resolved = includeList([new URL(specifier, url)], root)[0];
          } catch (err) {
            load.problem = (err as Error).message;
          }
        }
        out.push(load);
      }
      for (const m of text.matchAll(WORKER_STRING)) {
        if (inComment(m.index)) continue;
        out.push({
          file,
          line: lineOf(m.index),
          specifier: m[2],
          problem: 'start Workers with new Worker(new URL("…", import.meta.url))',
        });
      }
    }
  };
  await walk(root);
  return out;
}

/**
 * The runtime loads that the include list does not cover.
 *
 * @param loads What {@linkcode findRuntimeLoads} found.
 * @param include The include list. @default {INCLUDE_MODULES}
 * @returns The uncovered or unresolvable references; empty when all is embedded.
 *
 * @example Usage
 * ```ts
 * import { uncoveredLoads } from "./compile_includes.ts";
 * const load = { file: "servers/a.ts", line: 3, specifier: "./w.ts", resolved: "servers/w.ts" };
 * console.log(uncoveredLoads([load], ["servers/w.ts"]).length); // 0
 * ```
 */
export function uncoveredLoads(
  loads: readonly RuntimeLoad[],
  include: readonly string[] = INCLUDE_MODULES,
): RuntimeLoad[] {
  const set = new Set(include);
  return loads.filter((l) => l.resolved === undefined || !set.has(l.resolved));
}
