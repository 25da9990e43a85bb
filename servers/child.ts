/**
 * Starts echo servers as child processes and waits until they serve: our own
 * modes (`echokit serve --port 0`, reading the listening line for the real
 * port) and external peers (any argv with `{port}`, run without a shell).
 * Tests, `load --spawn` and `compare` all start servers through here.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import type { Mode, ServerAddr } from "./types.ts";

/** How to start a server process. Give `mode` (ours) or `command` (a peer). */
export interface ServerProcessOptions {
  /** Start `echokit serve --mode <mode> --port 0`. */
  mode?: Mode;
  /** Extra `serve` flags for our own modes. */
  args?: string[];
  /**
   * Port our own modes bind (with `--reuse-port` in `args`, several may share one).
   *
   * @default {0}
   */
  port?: number;
  /**
   * An external server's argv; every `{port}` is replaced by the port. Run
   * without a shell, so nothing else is interpreted.
   */
  command?: string[];
  /** Name used in messages. @default {the mode, or the command's first word} */
  name?: string;
  /** Host the server binds (external commands: where readiness is probed). @default {"127.0.0.1"} */
  hostname?: string;
  /**
   * How long to wait for the server to serve, ms.
   *
   * @default {60000}
   */
  readyTimeout?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A running server process. */
export interface ServerProcess {
  /** Mode or peer name. */
  readonly name: string;
  /** Where it serves. */
  readonly addr: ServerAddr;
  /** Its process id (sample its tree for CPU and memory). */
  readonly pid: number;
  /** Resolves when the process exits. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Lines it printed on stdout so far (our servers: listening line, then final stats). */
  stdout(): string;
  /** What it printed on stderr so far. */
  stderr(): string;
  /**
   * Stops it: SIGTERM, then SIGKILL after `graceMs`.
   *
   * @param graceMs How long to wait after SIGTERM. @default {5000}
   * @returns Its exit status.
   */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * The argv that runs this echokit program with the given arguments: the
 * compiled binary itself, or `deno run -A mod.ts` from the source tree.
 *
 * @param args Arguments for echokit (`["serve", "--port", "0"]`).
 * @returns The full argv, program first.
 *
 * @example Usage
 * ```ts
 * import { echokitArgv } from "./child.ts";
 * const [program] = echokitArgv(["--version"]);
 * console.log(program === Deno.execPath()); // true
 * ```
 */
export function echokitArgv(args: string[]): string[] {
  if (isCompiled()) return [Deno.execPath(), ...args];
  return scriptArgv("mod.ts", args);
}

/**
 * The command line that runs a script of this repository as `deno task`
 * does: all permissions, quiet, the repository's `deno.json`.
 *
 * @param script Path from the repository root (`bench/soak.ts`).
 * @param args Its arguments.
 * @returns `[deno, "run", …, script, ...args]`.
 *
 * @example Usage
 * ```ts
 * import { scriptArgv } from "./child.ts";
 * console.log(scriptArgv("bench/soak.ts", ["--help"]).at(-1)); // --help
 * ```
 */
export function scriptArgv(script: string, args: string[]): string[] {
  const root = new URL("../", import.meta.url);
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    `--config=${fromFileUrl(new URL("deno.json", root))}`,
    fromFileUrl(new URL(script, root)),
    ...args,
  ];
}

/**
 * True when running as a `deno compile` binary, where `Deno.execPath()` is
 * echokit itself and the source tree is not on disk.
 *
 * @returns Whether this is a compiled binary.
 */
export function isCompiled(): boolean {
  // Deno 2 sets Deno.build.standalone in compiled binaries; the module URL
  // check (their embedded files live under a `deno-compile-<name>` root) is
  // kept for runtimes that predate the flag.
  return Deno.build.standalone ?? import.meta.url.includes("/deno-compile-");
}

/**
 * Starts a server process and resolves once it serves.
 *
 * @param options Which server, and how long to wait.
 * @returns The running process.
 * @throws {EchokitError} When it exits early or is not ready in time (with its stderr).
 *
 * @example Usage
 * ```ts ignore
 * import { startServerProcess } from "./child.ts";
 * const server = await startServerProcess({ mode: "stream" });
 * console.log(server.addr.port, server.pid);
 * await server.stop();
 * ```
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const hostname = options.hostname ?? "127.0.0.1";
  const readyTimeout = options.readyTimeout ?? 60_000;
  let argv: string[];
  let port = 0;
  if (options.command) {
    if (options.command.length === 0) throw new EchokitError("Empty peer command");
    port = await freePort(hostname);
    argv = options.command.map((a) => a.replaceAll("{port}", String(port)));
  } else {
    const mode = options.mode ?? "stream";
    argv = echokitArgv([
      "serve",
      "--mode",
      mode,
      "--host",
      hostname,
      "--port",
      String(options.port ?? 0),
      ...(options.args ?? []),
    ]);
  }
  const name = options.name ?? options.mode ?? options.command?.[0] ?? "stream";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    }).spawn();
  } catch (err) {
    throw new EchokitError(
      `Cannot start ${name} ("${argv[0]}"): ${err instanceof Error ? err.message : err}`,
      { cause: err },
    );
  }

  let out = "";
  let errText = "";
  const listening = Promise.withResolvers<number>();
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  };
  const stdoutDone = pump(child.stdout, (t) => {
    out += t;
    const m = /^listening \S+:(\d+) /m.exec(out);
    if (m) listening.resolve(Number(m[1]));
  });
  const stderrDone = pump(child.stderr, (t) => {
    // Keep the tail only: a chatty server must not grow our memory.
    errText = (errText + t).slice(-64 * 1024);
  });
  const exited = child.status.then(async (status) => {
    await Promise.allSettled([stdoutDone, stderrDone]);
    return status;
  });

  const stop = async (graceMs = 5000): Promise<Deno.CommandStatus> => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  // A plain timer, cleared below: an AbortSignal.timeout with a listener
  // keeps the process alive for the whole readyTimeout.
  const ready = new AbortController();
  const deadline = ready.signal;
  const readyTimer = setTimeout(() => ready.abort(), readyTimeout);
  try {
    if (options.command) {
      await waitConnectable(hostname, port, deadline, exited);
    } else {
      port = await Promise.race([
        listening.promise,
        exited.then(() => {
          throw new Error("exited");
        }),
        new Promise<never>((_, reject) =>
          deadline.addEventListener("abort", () => reject(new Error("timeout")), { once: true })
        ),
      ]);
    }
  } catch (err) {
    await stop(1000);
    const why = (err as Error).message === "timeout"
      ? `did not serve within ${readyTimeout} ms`
      : "exited before serving";
    const detail = errText.trim().split("\n").slice(-5).join("\n");
    throw new EchokitError(`Server ${name} ${why}${detail ? `:\n${detail}` : ""}`, {
      cause: err,
    });
  } finally {
    clearTimeout(readyTimer);
  }

  return {
    name,
    addr: { hostname, port },
    pid: child.pid,
    exited,
    stdout: () => out,
    stderr: () => errText,
    stop,
  };
}

/**
 * Asks the OS for a free TCP port on a host (bind port 0, read it, release it).
 *
 * @param hostname Host to bind.
 * @returns A port that was free a moment ago.
 */
export function freePort(hostname = "127.0.0.1"): Promise<number> {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return Promise.resolve(port);
}

async function waitConnectable(
  hostname: string,
  port: number,
  deadline: AbortSignal,
  exited: Promise<unknown>,
): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  while (true) {
    if (gone) throw new Error("exited");
    if (deadline.aborted) throw new Error("timeout");
    try {
      const conn = await Deno.connect({ hostname, port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A file URL's path; not node:url's, for the reason in `_node_process.ts`. */
function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}
