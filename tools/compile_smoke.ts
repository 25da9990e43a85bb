/**
 * The compiled binary's smoke test: `--version`, then every mode serving and
 * echoing a message.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { EchokitError } from "../util/errors.ts";
import { startServerProcess } from "../servers/child.ts";
import { roundTrip } from "../servers/testing.ts";
import { type Mode, MODES } from "../servers/types.ts";

/** How long to wait for dl.deno.land before calling it unreachable, ms. */
/** How long the smoke test waits for a mode to echo its message, ms. */
export const ECHO_TIMEOUT_MS = 10_000;
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
 * import { checkEcho } from "./compile_smoke.ts";
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
 * import { smokeTest } from "./compile_smoke.ts";
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
