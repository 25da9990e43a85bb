/**
 * Small TCP client helpers for tests and benchmarks: exact reads, round trips,
 * a process's RSS. Real sockets only; nothing here mocks the network.
 *
 * @module
 */

import { echokitArgv, scriptArgv } from "./child.ts";
import { ioUringUnavailableReason } from "./os/io_uring.ts";
import type { Mode } from "./types.ts";

/** What a finished child process printed, and how it exited. */
export interface ChildOutput {
  /** Exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
}

/**
 * Starts this echokit program with the given arguments, stdout and stderr
 * piped, no stdin.
 *
 * @param args Arguments for echokit (`["load", "--threads", "2"]`).
 * @returns The running process.
 */
export function spawnEchokit(args: string[]): Deno.ChildProcess {
  return spawnArgv(echokitArgv(args));
}

function spawnArgv([cmd, ...args]: string[]): Deno.ChildProcess {
  return new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
}

/**
 * Runs a script of this repository to the end, as `deno task` would
 * (`bench/soak.ts`, `bench/bench.ts`).
 *
 * @param script Path from the repository root.
 * @param args Its arguments.
 * @param options `timeoutMs`: kill it after this long, so a hang fails the test.
 * @returns Its exit code and output.
 */
export function runScript(
  script: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<ChildOutput> {
  return childOutput(spawnArgv(scriptArgv(script, args)), options);
}

/**
 * Waits for a process started with piped output and decodes what it printed.
 *
 * @param child The process.
 * @param options `timeoutMs`: kill it after this long, so a hang fails the test.
 * @returns Its exit code and output.
 */
export async function childOutput(
  child: Deno.ChildProcess,
  options: { timeoutMs?: number } = {},
): Promise<ChildOutput> {
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, options.timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs this echokit program to the end.
 *
 * @param args Arguments for echokit.
 * @param options `timeoutMs`: kill it after this long, so a hang fails the test.
 * @returns Its exit code and output.
 */
export function runEchokit(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<ChildOutput> {
  return childOutput(spawnEchokit(args), options);
}

/**
 * Polls `check` until it is true or `timeoutMs` has passed, for output a
 * child process prints in its own time.
 *
 * @param check The condition.
 * @param timeoutMs Most time to wait.
 * @param intervalMs Time between checks. @default {50}
 * @returns Whether `check` came true in time.
 */
export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}

/**
 * A seeded PRNG (mulberry32): the same seed gives the same numbers on every
 * run, so a failure can be replayed.
 *
 * @param seed Any 32-bit integer.
 * @returns A function giving uniform numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reads exactly `n` bytes, or throws on EOF first.
 *
 * @param conn The connection.
 * @param n Bytes to read.
 * @returns The bytes.
 */
export async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

/**
 * Reads until EOF.
 *
 * @param conn The connection.
 * @returns Everything read.
 */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  while (true) {
    const r = await conn.read(buf);
    if (r === null) break;
    chunks.push(buf.slice(0, r));
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Writes `data` and reads the same number of bytes back, concurrently (so a
 * large payload cannot deadlock on full socket buffers).
 *
 * @param conn The connection.
 * @param data What to send.
 * @returns What came back.
 */
export async function roundTrip(conn: Deno.Conn, data: Uint8Array): Promise<Uint8Array> {
  const [, back] = await Promise.all([writeAll(conn, data), readExactly(conn, data.length)]);
  return back;
}

/**
 * Writes every byte.
 *
 * @param conn The connection.
 * @param data What to send.
 */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/**
 * Connects to a loopback port.
 *
 * @param port The port.
 * @returns The connection.
 */
export function connectLocal(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/**
 * Resident set size of a process from `/proc` (Linux), bytes; undefined elsewhere.
 *
 * @param pid The process.
 * @returns RSS in bytes.
 */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bytes 0..255 repeated to `n` bytes: every byte value, easy to check.
 *
 * @param n Length.
 * @returns The pattern.
 */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

/**
 * CPU time (user + system) a process has used so far, from `/proc` (Linux);
 * undefined elsewhere or when the process is gone. Counts all its threads.
 *
 * @param pid The process.
 * @returns Seconds of CPU.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may contain spaces; fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15, in USER_HZ ticks (100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Why a mode cannot run on this machine, printed once per mode so a skipped
 * test says why; `undefined` when it can. Only `uring` can be refused (where
 * io_uring is: not Linux, `io_uring_disabled`, a seccomp profile).
 *
 * @param mode The mode a test is about to start.
 * @returns The reason, or undefined.
 *
 * @example Usage
 * ```ts
 * import { modeSkipReason } from "./testing.ts";
 * console.log(modeSkipReason("stream")); // undefined
 * ```
 */
export function modeSkipReason(mode: Mode): string | undefined {
  if (mode !== "uring") return undefined;
  const why = ioUringUnavailableReason();
  if (why !== undefined && !skipPrinted.has(mode)) {
    skipPrinted.add(mode);
    console.log(`skipping mode "${mode}": io_uring is unavailable: ${why}`);
  }
  return why;
}

const skipPrinted = new Set<Mode>();

/**
 * Waits for a promise, at most `ms`.
 *
 * @param p The promise.
 * @param ms How long to wait.
 * @returns Its value, or `"timeout"` after `ms`.
 */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes 64 KiB chunks of `fill` without reading, until a write has not
 * finished within 500 ms: the peer stopped reading and the socket buffers are
 * full. At most 4096 chunks (256 MiB).
 *
 * @param conn The connection.
 * @param fill The byte every chunk is made of.
 * @returns Bytes written in full, and the stalled write (undefined if none stalled).
 */
export async function writeUntilStalled(
  conn: Deno.Conn,
  fill: number,
): Promise<{ written: number; stalled: Promise<number> | undefined }> {
  const chunk = new Uint8Array(64 * 1024).fill(fill);
  let written = 0;
  for (let i = 0; i < 4096; i++) {
    const w = conn.write(chunk);
    const n = await within(w, 500);
    if (n === "timeout") return { written, stalled: w };
    written += n;
  }
  return { written, stalled: undefined };
}
