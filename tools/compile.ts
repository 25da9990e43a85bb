#!/usr/bin/env -S deno run -A
/**
 * `deno task compile`: builds the echokit binary with `deno compile`.
 *
 * ```sh
 * deno task compile                      # dist/echokit for this machine
 * deno task compile --target aarch64-unknown-linux-gnu   # dist/echokit-aarch64-unknown-linux-gnu
 * deno task compile --target all         # the four release targets
 * deno task compile --dry-run            # print the deno compile command lines only
 * deno run -A tools/compile.ts --smoke dist/echokit   # check an existing binary
 * ```
 *
 * Before compiling it checks that every module loaded at run time (Worker
 * modules, assets) is in the include list, and that `deno compile` can get
 * its runtime (`denort`): from `DENORT_BIN`, from the `DENO_DIR` cache, or by
 * download from dl.deno.land (probed with a short timeout, so an offline
 * machine gets a clear error instead of a hang). A binary for this machine is
 * then smoke-tested: `--version`, and every mode serving and echoing.
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import { EchokitError, UsageError } from "../util/errors.ts";
import { startServerProcess } from "../servers/child.ts";
import { roundTrip } from "../servers/testing.ts";
import { type Mode, MODES } from "../servers/types.ts";
import {
  ENTRYPOINT,
  INCLUDE_MODULES,
  includeList,
  OUTPUT_DIR,
  PERMISSIONS,
  RELEASE_TARGETS,
  type ReleaseTarget,
  UNSTABLE_FLAGS,
} from "./compile_config.ts";

const ROOT_URL = new URL("../", import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);
const DOWNLOAD_HOST = "dl.deno.land";

/** How long to wait for dl.deno.land before calling it unreachable, ms. */
export const PROBE_TIMEOUT_MS = 5000;

/** How long the smoke test waits for a mode to echo its message, ms. */
export const ECHO_TIMEOUT_MS = 10_000;

/**
 * The binary's path for a target.
 *
 * @param target The target, or undefined for this machine.
 * @param dir The output folder. @default {"dist"}
 * @returns `dist/echokit` or `dist/echokit-<target>` (relative to the repository root).
 *
 * @example Usage
 * ```ts
 * import { outputPath } from "./compile.ts";
 * console.log(outputPath("aarch64-apple-darwin")); // dist/echokit-aarch64-apple-darwin
 * ```
 */
export function outputPath(target?: ReleaseTarget, dir: string = OUTPUT_DIR): string {
  return `${dir}/echokit${target ? `-${target}` : ""}`;
}

/** Options for {@linkcode compileArgv}. */
export interface CompileArgvOptions {
  /** Cross-compile for this target. @default {this machine} */
  target?: ReleaseTarget;
  /** Files to embed. @default {INCLUDE_MODULES} */
  include?: readonly string[];
  /** Permission flags to bake in. @default {PERMISSIONS} */
  permissions?: readonly string[];
  /** Output path. @default {outputPath(target)} */
  output?: string;
}

/**
 * The `deno compile` arguments (after `deno`) for one binary, run from the
 * repository root.
 *
 * @param options Target, embedded files, permissions, output.
 * @returns The argument list.
 *
 * @example Usage
 * ```ts
 * import { compileArgv } from "./compile.ts";
 * console.log(compileArgv({ target: "x86_64-apple-darwin", include: ["servers/w.ts"] }).join(" "));
 * // compile --allow-net … --include servers/w.ts --target x86_64-apple-darwin --output dist/echokit-x86_64-apple-darwin mod.ts
 * ```
 */
export function compileArgv(options: CompileArgvOptions = {}): string[] {
  const args = ["compile", ...(options.permissions ?? PERMISSIONS), ...UNSTABLE_FLAGS];
  for (const file of options.include ?? INCLUDE_MODULES) args.push("--include", file);
  if (options.target) args.push("--target", options.target);
  args.push("--output", options.output ?? outputPath(options.target), ENTRYPOINT);
  return args;
}

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
 * import { findRuntimeLoads } from "./compile.ts";
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
 * import { uncoveredLoads } from "./compile.ts";
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

/** Where `deno compile` will get its runtime from. */
export interface DenortSource {
  /** `DENORT_BIN`, the `DENO_DIR` download cache, or a download from dl.deno.land. */
  kind: "DENORT_BIN" | "cache" | "download";
  /** The file used (`DENORT_BIN` or cache), or the URL to download. */
  location: string;
}

/** Options for {@linkcode findDenort}. */
export interface FindDenortOptions {
  /** The target to compile for. */
  target: string;
  /** Environment to read `DENORT_BIN` and `DENO_DIR` from. @default {Deno.env.toObject()} */
  env?: Record<string, string | undefined>;
  /** Deno's cache folder. @default {what `deno info --json` reports under `env`} */
  denoDir?: string;
  /** The Deno version whose runtime is needed. @default {Deno.version.deno} */
  denoVersion?: string;
  /** How long the download probe may take, ms. @default {PROBE_TIMEOUT_MS} */
  probeTimeoutMs?: number;
}

/**
 * Finds the `denort` runtime `deno compile` will embed, the way Deno 2.9 does:
 * `DENORT_BIN` first, then `$DENO_DIR/dl/release/v<version>/denort-<target>.zip`,
 * else a download from dl.deno.land, which is probed (HEAD, bounded by a
 * timeout) so an offline machine fails fast with advice.
 *
 * @param options Target, environment, cache folder.
 * @returns Where the runtime will come from.
 * @throws {EchokitError} When `DENORT_BIN` is not a file, or nothing is
 * cached and dl.deno.land cannot be reached.
 *
 * @example Usage
 * ```ts ignore
 * import { findDenort } from "./compile.ts";
 * console.log(await findDenort({ target: Deno.build.target }));
 * ```
 */
export async function findDenort(options: FindDenortOptions): Promise<DenortSource> {
  const env = options.env ?? Deno.env.toObject();
  const version = options.denoVersion ?? Deno.version.deno;
  const { target } = options;
  const bin = env.DENORT_BIN;
  if (bin) {
    let isFile = false;
    try {
      isFile = (await Deno.stat(bin)).isFile;
    } catch {
      // Reported below.
    }
    if (!isFile) {
      throw new EchokitError(
        `DENORT_BIN "${bin}" is not a file (point it at the denort ${version} binary for ${target})`,
      );
    }
    return { kind: "DENORT_BIN", location: bin };
  }
  const denoDir = options.denoDir ?? await denoDirOf(env);
  const zip = join(denoDir, "dl", "release", `v${version}`, `denort-${target}.zip`);
  try {
    if ((await Deno.stat(zip)).isFile) return { kind: "cache", location: zip };
  } catch {
    // Not cached: try the download host.
  }
  const url = `https://${DOWNLOAD_HOST}/release/v${version}/denort-${target}.zip`;
  const problem = await probe(url, options.probeTimeoutMs ?? PROBE_TIMEOUT_MS);
  if (problem === undefined) return { kind: "download", location: url };
  throw new EchokitError(
    `deno compile needs the denort runtime, which it downloads from ${DOWNLOAD_HOST}; ` +
      `this machine cannot reach it (${problem}). ` +
      `Set DENORT_BIN=/path/to/denort (the denort ${version} binary for ${target}, ` +
      `unzipped from ${url} on a machine that can reach it), ` +
      `or copy that zip to "${zip}", then run deno task compile again`,
  );
}

async function denoDirOf(env: Record<string, string | undefined>): Promise<string> {
  if (env.DENO_DIR) return env.DENO_DIR;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    env: env as Record<string, string>,
    clearEnv: true,
    stdin: "null",
    stderr: "null",
    signal: AbortSignal.timeout(10_000),
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

// Undefined when the URL answers 200; otherwise why not, in a few words.
async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok ? undefined : `HTTP ${res.status} for ${url}`;
  } catch (err) {
    if (err instanceof DOMException && err.name === "TimeoutError") {
      return `no answer within ${timeoutMs / 1000} s`;
    }
    // fetch() says only "fetch failed"; the cause names DNS, refusal, TLS….
    const cause = (err as Error).cause;
    const message = cause instanceof Error ? `${(err as Error).message}: ${cause.message}` : String(
      err instanceof Error ? err.message : err,
    );
    return message.split("\n")[0].replace(/\.$/, "");
  }
}

/** Options for {@linkcode checkEcho}. */
export interface CheckEchoOptions {
  /** Who is checked, at the start of the error message. @default {"127.0.0.1:PORT"} */
  name?: string;
  /** Most time to connect, send and read the echo back, ms. @default {ECHO_TIMEOUT_MS} */
  timeoutMs?: number;
}

/**
 * The smoke test's echo step: connects to a server on 127.0.0.1, sends one
 * line and checks that the same bytes come back, all within a deadline, so a
 * server that accepts but never answers fails the check instead of hanging it.
 *
 * @param port The server's port on 127.0.0.1.
 * @param options Name for the message, deadline.
 * @returns Resolves when the message came back whole.
 * @throws {EchokitError} `… did not echo the message within 10 s`, or with why
 *   (connection refused, closed early, different bytes).
 *
 * @example Usage
 * ```ts ignore
 * import { checkEcho } from "./compile.ts";
 * await checkEcho(7000, { name: 'Mode "stream"', timeoutMs: 2000 });
 * ```
 */
export async function checkEcho(port: number, options: CheckEchoOptions = {}): Promise<void> {
  const name = options.name ?? `127.0.0.1:${port}`;
  const timeoutMs = options.timeoutMs ?? ECHO_TIMEOUT_MS;
  const message = new TextEncoder().encode("echokit smoke test\n");
  const deadline = AbortSignal.timeout(timeoutMs);
  let conn: Deno.TcpConn | undefined;
  const close = () => {
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
  };
  // A read takes no signal; closing the connection ends one that waits.
  deadline.addEventListener("abort", close);
  let got: Uint8Array;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port, signal: deadline });
    got = await roundTrip(conn, message);
  } catch (err) {
    if (deadline.aborted) {
      throw new EchokitError(
        `${name} did not echo the message within ${timeoutMs / 1000} s`,
        { cause: err },
      );
    }
    throw new EchokitError(
      `${name} did not echo the message: ${err instanceof Error ? err.message : err}`,
      { cause: err },
    );
  } finally {
    deadline.removeEventListener("abort", close);
    close();
  }
  if (!got.every((b, i) => b === message[i])) {
    throw new EchokitError(`${name} did not echo the message (different bytes came back)`);
  }
}

/** Options for {@linkcode smokeTest}. */
export interface SmokeTestOptions {
  /** Modes to serve and echo through. @default {every mode} */
  modes?: readonly Mode[];
  /** The version `--version` must print. @default {deno.json's version} */
  version?: string;
}

/**
 * Checks that a built echokit runs: `--version` prints the version, and each
 * mode serves on 127.0.0.1 and echoes a message (so Worker modules resolve
 * from inside a compiled binary).
 *
 * @param argv How to run echokit (`["dist/echokit"]`, or `deno run … mod.ts`).
 * @param options Modes to try.
 * @returns Resolves when every check passed.
 * @throws {EchokitError} Naming the first check that failed.
 *
 * @example Usage
 * ```ts ignore
 * import { smokeTest } from "./compile.ts";
 * await smokeTest(["dist/echokit"]);
 * ```
 */
export async function smokeTest(argv: string[], options: SmokeTestOptions = {}): Promise<void> {
  const version = options.version ?? denoJson.version;
  const [program, ...pre] = argv;
  const out = await new Deno.Command(program, {
    args: [...pre, "--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output().catch((err) => {
    throw new EchokitError(`Cannot run "${program}": ${err.message}`, { cause: err });
  });
  const printed = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0 || printed !== `echokit ${version}`) {
    throw new EchokitError(
      `"${program} --version" printed "${printed.split("\n")[0]}" (exit ${out.code}), ` +
        `not "echokit ${version}" (is DENORT_BIN a denort binary rather than deno?)`,
    );
  }
  for (const mode of options.modes ?? MODES) {
    const server = await startServerProcess({
      name: `${program} serve --mode ${mode}`,
      command: [...argv, "serve", "--mode", mode, "--port", "{port}"],
      readyTimeout: 30_000,
    });
    try {
      await checkEcho(server.addr.port, { name: `Mode "${mode}" of "${program}"` });
    } catch (err) {
      await server.stop();
      throw err;
    }
    const status = await server.stop();
    if (status.code !== 0) {
      throw new EchokitError(
        `Mode "${mode}" of "${program}" exited ${status.code} on SIGTERM: ${server.stderr()}`,
      );
    }
  }
}

/** What the compile script was asked to do. */
export interface CompileRequest {
  /** Targets to build; `undefined` is this machine (`dist/echokit`). */
  targets: (ReleaseTarget | undefined)[];
  /** Print the command lines only. */
  dryRun: boolean;
  /** Skip the smoke test of a binary for this machine. */
  noSmoke: boolean;
  /** Only smoke-test this existing binary. */
  smoke?: string;
  /** Output folder, absolute. @default {the repository's dist/} */
  outDir?: string;
}

const USAGE =
  `Usage: deno task compile [--target TARGET|all] [--out-dir DIR] [--dry-run] [--no-smoke]
       deno run -A tools/compile.ts --smoke BINARY

Builds dist/echokit (or dist/echokit-TARGET) with deno compile.
Targets: ${RELEASE_TARGETS.join(", ")}; all = every one of them.
DENORT_BIN=/path/to/denort uses that runtime instead of downloading one.`;

/**
 * Parses the compile script's arguments.
 *
 * @param args Command-line arguments.
 * @returns The request.
 * @throws {UsageError} On an unknown flag or target.
 *
 * @example Usage
 * ```ts
 * import { parseCompileArgs } from "./compile.ts";
 * console.log(parseCompileArgs(["--target", "all"]).targets.length); // 4
 * ```
 */
export function parseCompileArgs(args: string[]): CompileRequest {
  const request: CompileRequest = { targets: [undefined], dryRun: false, noSmoke: false };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith("--") && args[i].includes("=")
      ? [args[i].slice(0, args[i].indexOf("=")), args[i].slice(args[i].indexOf("=") + 1)]
      : [args[i], undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`Option '${flag}' needs a value`);
      return v;
    };
    if (flag === "--target") {
      const t = value();
      if (t === "all") request.targets = [...RELEASE_TARGETS];
      else if ((RELEASE_TARGETS as readonly string[]).includes(t)) {
        request.targets = [t as ReleaseTarget];
      } else {
        throw new UsageError(`Invalid --target "${t}" (use ${RELEASE_TARGETS.join(", ")} or all)`);
      }
    } else if (flag === "--dry-run") request.dryRun = true;
    else if (flag === "--no-smoke") request.noSmoke = true;
    else if (flag === "--smoke") request.smoke = value();
    else if (flag === "--out-dir") request.outDir = resolve(value());
    else throw new UsageError(`Unknown option '${args[i]}'`);
  }
  return request;
}

/**
 * Runs the compile script.
 *
 * @param args Command-line arguments.
 * @param env Environment (for `DENORT_BIN`, `DENO_DIR`). @default {Deno.env.toObject()}
 * @returns The exit code: 0 built, 1 could not build, 2 bad arguments.
 */
export async function main(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  try {
    if (args.includes("-h") || args.includes("--help")) {
      console.log(USAGE);
      return 0;
    }
    const request = parseCompileArgs(args);
    if (request.smoke) {
      await smokeTest([request.smoke]);
      console.log(`smoke test passed: ${request.smoke}`);
      return 0;
    }
    if (env.DENORT_BIN && request.targets.length > 1) {
      throw new UsageError(
        `DENORT_BIN "${env.DENORT_BIN}" is one runtime, so it cannot build --target all ` +
          `(build one --target at a time, with that target's denort)`,
      );
    }
    const uncovered = uncoveredLoads(await findRuntimeLoads());
    if (uncovered.length > 0) {
      throw new EchokitError(
        "These files are loaded at run time but not embedded; add them to tools/compile_config.ts:\n" +
          uncovered.map((l) =>
            `  ${l.file}:${l.line} "${l.specifier}"${l.problem ? ` (${l.problem})` : ""}`
          ).join("\n"),
      );
    }
    for (const target of request.targets) {
      const output = outputPath(target, request.outDir);
      const argv = compileArgv({ target, output });
      if (request.dryRun) {
        console.log(["deno", ...argv].join(" "));
        continue;
      }
      const resolved = target ?? Deno.build.target;
      const denort = await findDenort({ target: resolved, env });
      if (denort.kind === "DENORT_BIN" && resolved !== Deno.build.target) {
        console.error(`note: DENORT_BIN must be the denort binary for ${resolved}`);
      }
      console.error(`compiling ${output} (denort: ${denort.kind} ${denort.location})`);
      const status = await new Deno.Command(Deno.execPath(), {
        args: argv,
        cwd: ROOT,
        env: env as Record<string, string>,
        clearEnv: true,
        stdin: "null",
      }).spawn().status;
      if (!status.success) {
        throw new EchokitError(`deno compile for ${resolved} failed (exit ${status.code})`);
      }
      if (resolved === Deno.build.target && !request.noSmoke) {
        await smokeTest([resolve(ROOT, output)]);
        console.error(`smoke test passed: ${output}`);
      }
      console.log(output);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
