/**
 * Running the documents' commands: a process with a deadline, a server
 * between its `listening` line and its stop, an echo through it, and state
 * several steps share.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { echokitArgv } from "../servers/child.ts";
import { connectLocal, roundTrip } from "../servers/testing.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Any one process of a run here is killed after this long, so a hang fails the step. */
export const PROCESS_TIMEOUT_MS = 90_000;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The program to start for a README word: this deno for `deno`, echokit's own argv for `echokit`. */
export function executable(argv: string[]): string[] {
  if (argv[0] === "deno") return [Deno.execPath(), ...argv.slice(1)];
  if (argv[0] === "echokit") return echokitArgv(argv.slice(1));
  return argv;
}

export async function run(
  argv: string[],
  options: { cwd?: string; stdin?: string } = {},
): Promise<Ran> {
  const [cmd, ...args] = executable(argv);
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1" },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

export function assertRan(r: Ran, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** A server started by a README command, between its listening line and its stop. */
export interface Serving {
  port: number;
  pid: number;
  /** Waits until stdout has a line matching `re`, and returns that line. */
  waitFor(re: RegExp): Promise<string>;
}

/**
 * Runs a command that serves: waits for its `listening` line, hands the
 * server to `body`, then stops it with SIGTERM (to the server's own pid, so a
 * `deno task`/`npx` wrapper ends with it) and expects exit 0.
 */
export async function serving(
  argv: string[],
  body: (server: Serving) => Promise<void>,
  options: { cwd?: string } = {},
): Promise<Ran> {
  const [cmd, ...args] = executable(argv);
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let ended = false;
  const waitFor = async (re: RegExp): Promise<string> => {
    const deadline = Date.now() + PROCESS_TIMEOUT_MS;
    while (true) {
      const line = out.split("\n").slice(0, ended ? undefined : -1).find((l) => re.test(l));
      if (line !== undefined) return line;
      if (ended || Date.now() > deadline) {
        assert.fail(`no line matching ${re} in ${JSON.stringify(out)}:\n${await stderr}`);
      }
      const timer = setTimeout(() => reader.cancel("timeout"), deadline - Date.now());
      const { value, done } = await reader.read();
      clearTimeout(timer);
      if (done) ended = true;
      else out += value;
    }
  };
  let pid: number | undefined;
  try {
    const listening = await waitFor(/^listening \S+:\d+ mode=\w+ pid=\d+$/);
    const [, port, serverPid] = /:(\d+) mode=\w+ pid=(\d+)$/.exec(listening)!;
    pid = Number(serverPid);
    await body({ port: Number(port), pid, waitFor });
    Deno.kill(pid, "SIGTERM");
    pid = undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) ended = true;
      else out += value;
    }
    const status = await child.status;
    clearTimeout(timer);
    const result = { code: status.code, stdout: out, stderr: await stderr };
    assert.equal(status.code, 0, `it exits 0 after SIGTERM:\n${result.stderr}`);
    assert.match(out, /^stats mode=\w+ accepted=\d+ active=0 /m, "it prints its final stats");
    return result;
  } finally {
    if (pid !== undefined) Deno.kill(pid, "SIGKILL");
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await reader.cancel().catch(() => {});
    await child.status;
    await stderr;
  }
}

export async function echoes(port: number): Promise<void> {
  const conn = await connectLocal(port);
  try {
    const msg = new TextEncoder().encode("readme\n");
    assert.deepEqual(await roundTrip(conn, msg), msg);
  } finally {
    conn.close();
  }
}

/** Serves, echoes one message, stops. */
export function serveAndEcho(argv: string[], options: { cwd?: string } = {}): Promise<Ran> {
  return serving(argv, ({ port }) => echoes(port), options);
}

/** Starts a stream server on port 0 for commands that need one to talk to. */
export function withStreamServer(body: (server: Serving) => Promise<void>): Promise<Ran> {
  return serving(["echokit", "serve", "--mode", "stream", "--port", "0"], body);
}

export function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A value made on first use, then shared: for state two steps need. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}
