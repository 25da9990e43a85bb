/**
 * Builds the native reference peers (`bench/native/*.c`) with the system's
 * C compiler, once per source version, into the git-ignored `.bench/` cache.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { EchokitError } from "../util/errors.ts";

/** Paths of the compiled native reference programs. */
export interface NativePeers {
  /** The single-threaded epoll echo server (`c_epoll_echo PORT`). */
  server: string;
  /** The epoll ping-pong client (`c_epoll_client -p PORT …`, one JSON line). */
  client: string;
}

/** Options for {@linkcode buildNativePeers}. */
export interface BuildNativeOptions {
  /** Where binaries are cached. @default {"<repo>/.bench/native"} */
  cacheDir?: string;
  /** The compiler to run. @default {Deno.env CC, else "cc"} */
  cc?: string;
}

const ROOT = new URL("../", import.meta.url);
const SOURCES = {
  server: new URL("bench/native/c_epoll_echo.c", ROOT),
  client: new URL("bench/native/c_epoll_client.c", ROOT),
};
const CFLAGS = ["-O2", "-Wall"];

/**
 * Compiles the C echo server and client unless an up-to-date build is cached.
 *
 * @param options Cache directory and compiler.
 * @returns The two executables' paths.
 * @throws {EchokitError} When no C compiler runs or a source fails to compile.
 *
 * @example Usage
 * ```ts ignore
 * const { server, client } = await buildNativePeers();
 * ```
 */
export async function buildNativePeers(options: BuildNativeOptions = {}): Promise<NativePeers> {
  const cacheDir = options.cacheDir ?? fileURLToPath(new URL(".bench/native", ROOT));
  const cc = options.cc ?? Deno.env.get("CC") ?? "cc";
  await Deno.mkdir(cacheDir, { recursive: true });
  const out: Partial<NativePeers> = {};
  for (const [key, url] of Object.entries(SOURCES) as [keyof NativePeers, URL][]) {
    const source = await Deno.readFile(url);
    // Key the cache on the source and flags so an edited .c file is rebuilt.
    const digest = new Uint8Array(
      await crypto.subtle.digest(
        "SHA-256",
        new Uint8Array([...source, ...encode(CFLAGS.join(" "))]),
      ),
    );
    const hash = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const name = fileURLToPath(url).split("/").pop()!.replace(/\.c$/, "");
    const exe = `${cacheDir}/${name}-${hash}`;
    if (!(await exists(exe))) await compile(cc, fileURLToPath(url), exe);
    out[key] = exe;
  }
  return out as NativePeers;
}

async function compile(cc: string, source: string, exe: string): Promise<void> {
  let result: Deno.CommandOutput;
  const tmp = `${exe}.tmp${Deno.pid}`;
  try {
    result = await new Deno.Command(cc, {
      args: [...CFLAGS, "-o", tmp, source],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new EchokitError(
      `Cannot run the C compiler "${cc}": ${(err as Error).message} (install cc, or set CC)`,
      { cause: err },
    );
  }
  if (!result.success) {
    const detail = new TextDecoder().decode(result.stderr).trim().split("\n").slice(0, 5);
    throw new EchokitError(`Cannot compile "${source}" with "${cc}":\n${detail.join("\n")}`);
  }
  // Rename into place so a concurrent run never executes a half-written file.
  await Deno.rename(tmp, exe);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
