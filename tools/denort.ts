/**
 * Where `deno compile` gets its runtime (`denort`): `DENORT_BIN`, the
 * `DENO_DIR` download cache, or a download from dl.deno.land, probed with a
 * short timeout so an offline machine gets a clear error instead of a hang.
 *
 * @module
 */
import { join } from "node:path";
import { EchokitError } from "../util/errors.ts";

const DOWNLOAD_HOST = "dl.deno.land";

/** How long to wait for dl.deno.land before calling it unreachable, ms. */
export const PROBE_TIMEOUT_MS = 5000;

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
 * import { findDenort } from "./denort.ts";
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
