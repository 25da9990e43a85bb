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
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EchokitError, UsageError } from "../util/errors.ts";
import { findRuntimeLoads, uncoveredLoads } from "./compile_includes.ts";
import { findDenort } from "./denort.ts";
import { smokeTest } from "./compile_smoke.ts";
import {
  ENTRYPOINT,
  INCLUDE_MODULES,
  OUTPUT_DIR,
  PERMISSIONS,
  RELEASE_TARGETS,
  type ReleaseTarget,
  UNSTABLE_FLAGS,
} from "./compile_config.ts";

const ROOT_URL = new URL("../", import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);

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
