/**
 * What `deno task compile` puts into the echokit binary: the entry point, the
 * permissions baked in, and every module or file loaded at run time that
 * `deno compile` cannot find by itself (Worker modules and assets, passed as
 * `--include`). This is the one place that list is assembled; `compile_test.ts`
 * scans the source tree and fails when a runtime-loaded file is missing here.
 *
 * @module
 */
import { normalize, relative, sep } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { PEER_SCRIPT_FILES } from "../compare/peers.ts";
import { LOADGEN_WORKER_MODULES } from "../loadgen/run.ts";
import { OFFLOAD_WORKER_MODULES } from "../servers/offload.ts";
import { WORKER_MODULES } from "../servers/workers.ts";

/** The four targets every release ships. */
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/** A `deno compile --target` that echokit releases. */
export type ReleaseTarget =
  | "x86_64-unknown-linux-gnu"
  | "aarch64-unknown-linux-gnu"
  | "x86_64-apple-darwin"
  | "aarch64-apple-darwin";

/** The program compiled: the CLI. */
export const ENTRYPOINT = "mod.ts";

/** Where binaries are written, relative to the repository root. */
export const OUTPUT_DIR = "dist";

/**
 * Permissions baked into the binary, and why each one. Everything except
 * `--allow-import` (the binary loads no remote code) and prompts:
 * - `--allow-net`: listen (serve), connect (load), `--host` on other machines.
 * - `--allow-read`: plan files and `.jmx`, `/proc` for CPU and memory.
 * - `--allow-write`: `--jtl`, `--json`, `--stats-json` and compare's reports.
 * - `--allow-env`: `NO_COLOR` and the like.
 * - `--allow-sys`: host name and OS facts recorded in JSON results.
 * - `--allow-run`: `load --spawn` and `compare` start servers (the binary
 *   itself, or any peer command), and `ps` to find a server's process tree.
 * - `--allow-ffi`: the `blocking` and `nonblocking` modes call libc.
 * Worker threads inherit these.
 */
export const PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
  "--allow-ffi",
];

// Each folder that starts Workers lists their modules in one exported constant;
// compile_test.ts fails until every `new URL("…", import.meta.url)` in the
// source tree is covered, so a forgotten module cannot ship.
const SERVER_WORKER_MODULES: readonly (string | URL)[] = [
  ...WORKER_MODULES,
  ...OFFLOAD_WORKER_MODULES,
];

/**
 * Unstable APIs the binary uses: `--unstable-net` for `Deno.listen`'s
 * `reusePort` (`serve --processes N` and `--reuse-port` in stream mode), as
 * deno.json's `"unstable": ["net"]` gives `deno run`.
 */
export const UNSTABLE_FLAGS: readonly string[] = ["--unstable-net"];

/** Files read at run time (plans, fixtures) that must be embedded too. */
const ASSETS: readonly (string | URL)[] = PEER_SCRIPT_FILES;

const ROOT_URL = new URL("../", import.meta.url);

/**
 * Turns module specifiers into sorted, unique, repository-relative POSIX paths.
 *
 * @param specifiers Paths relative to the repository root, `file:` URL strings or URLs.
 * @param root The repository root. @default {the folder above tools/}
 * @returns The paths, as `--include` takes them from the repository root.
 * @throws {Error} When a specifier is outside the repository or not a local file.
 *
 * @example Usage
 * ```ts
 * import { includeList } from "./compile_config.ts";
 * const root = new URL("file:///repo/");
 * console.log(includeList(["servers/b.ts", new URL("file:///repo/loadgen/a.ts")], root));
 * // ["loadgen/a.ts", "servers/b.ts"]
 * ```
 */
export function includeList(
  specifiers: readonly (string | URL)[],
  root: URL = ROOT_URL,
): string[] {
  const rootPath = fromFileUrl(root);
  const out = new Set<string>();
  for (const spec of specifiers) {
    const text = String(spec);
    let rel: string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
      const url = new URL(text);
      if (url.protocol !== "file:") throw new Error(`Cannot include "${text}": not a local file`);
      rel = relative(rootPath, fromFileUrl(url));
    } else {
      rel = normalize(text);
    }
    rel = rel.split(sep).join("/");
    if (rel.startsWith("../") || rel === ".." || rel.startsWith("/")) {
      throw new Error(`Cannot include "${text}": it is outside the repository`);
    }
    out.add(rel);
  }
  return [...out].sort();
}

/**
 * Every Worker module and asset the binary loads at run time, as
 * repository-relative paths: one `--include` each.
 */
export const INCLUDE_MODULES: readonly string[] = includeList([
  ...SERVER_WORKER_MODULES,
  ...LOADGEN_WORKER_MODULES,
  ...ASSETS,
]);
