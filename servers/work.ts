/**
 * Work a handler does per message before echoing it (`serve --work`): the
 * half of the question a bare echo cannot answer — what happens to each model
 * when a request sleeps, blocks, burns CPU or reads a file.
 *
 * A "message" is one read chunk: echo servers see a byte stream, not request
 * boundaries, so each read (up to the read size) gets the work once. With a
 * request–response client such as the load generator one read is one request.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { parseDuration } from "../util/units.ts";
import { nodeProcess } from "./_node_process.ts";

/** What the handler does per message. */
export type Work =
  /**
   * Waits without using CPU: a timer in async modes (millisecond resolution,
   * so sub-millisecond sleeps round up), a blocking sleep in `blocking`.
   */
  | { kind: "sleep"; ms: number }
  /** A blocking wait in any mode (a sync API called inside an event loop). */
  | { kind: "block"; ms: number }
  /** A busy computation lasting about `ms` of CPU time. */
  | { kind: "cpu"; ms: number }
  /** Reads the whole file (and appends nothing to the echo). */
  | { kind: "file"; path: string };

/** The forms `--work` accepts, for help and error messages. */
export const WORK_FORMS = "sleep:DURATION, block:DURATION, cpu:DURATION or file:PATH";

/** Longest sleep, block or CPU burn per message, ms (a minute is already absurd). */
const MAX_WORK_MS = 60_000;

/**
 * Parses a `--work` value: `sleep:5ms`, `block:5ms`, `cpu:200us` or `file:PATH`.
 *
 * @param raw The text given.
 * @returns The typed work.
 * @throws {UsageError} On any other form, naming the allowed ones.
 *
 * @example Usage
 * ```ts
 * import { parseWork } from "./work.ts";
 * console.log(parseWork("cpu:200us")); // { kind: "cpu", ms: 0.2 }
 * ```
 */
export function parseWork(raw: string): Work {
  const colon = raw.indexOf(":");
  const kind = colon < 0 ? raw : raw.slice(0, colon);
  const arg = colon < 0 ? "" : raw.slice(colon + 1);
  if (kind === "file") {
    if (arg === "") throw new UsageError(`Invalid --work "${raw}" (give a path: file:PATH)`);
    return { kind, path: arg };
  }
  if (kind === "sleep" || kind === "block" || kind === "cpu") {
    if (arg === "") {
      throw new UsageError(`Invalid --work "${raw}" (give a duration: ${kind}:5ms)`);
    }
    const ms = parseDuration(`--work ${kind} duration`, arg, "ms");
    if (ms <= 0 || ms > MAX_WORK_MS) {
      throw new UsageError(
        `Invalid --work "${raw}" (use a duration above 0 and at most ${MAX_WORK_MS / 1000}s)`,
      );
    }
    return { kind, ms };
  }
  throw new UsageError(`Invalid --work "${raw}" (use ${WORK_FORMS})`);
}

/**
 * Formats work back into the `--work` form (`cpu:200us`), so it round-trips
 * through {@linkcode parseWork}.
 *
 * @param work The work.
 * @returns The flag value.
 *
 * @example Usage
 * ```ts
 * import { formatWork } from "./work.ts";
 * console.log(formatWork({ kind: "sleep", ms: 10 })); // "sleep:10ms"
 * ```
 */
export function formatWork(work: Work): string {
  if (work.kind === "file") return `file:${work.path}`;
  const us = Math.round(work.ms * 1000);
  return us % 1000 === 0 ? `${work.kind}:${us / 1000}ms` : `${work.kind}:${us}us`;
}

/**
 * Blocks the calling thread for `ms` without using CPU: `Atomics.wait` on a
 * private SharedArrayBuffer that nobody notifies. It works on Deno's main
 * thread (browsers forbid it there), so it stalls an event loop exactly as a
 * synchronous `sleep()` would.
 *
 * @param ms How long to block, ms.
 *
 * @example Usage
 * ```ts
 * import { blockFor } from "./work.ts";
 * blockFor(1);
 * ```
 */
export function blockFor(ms: number): void {
  // Atomics.wait may return early on a spurious wake-up; wait out the rest.
  const end = performance.now() + ms;
  for (let left = ms; left > 0; left = end - performance.now()) {
    Atomics.wait(BLOCK_CELL, 0, 0, left);
  }
}

const BLOCK_CELL = new Int32Array(new SharedArrayBuffer(4));

// Written by every burn so the optimiser cannot drop the loop.
let sink = 1;

/**
 * Runs the busy loop a fixed number of iterations. Counting iterations rather
 * than watching the clock keeps the CPU spent per message the same when the
 * thread is preempted: under contention a message takes longer, as real
 * CPU-bound work would.
 *
 * @param iterations Loop iterations (see {@linkcode calibrateCpu}).
 *
 * @example Usage
 * ```ts
 * import { spin } from "./work.ts";
 * spin(1000);
 * ```
 */
export function spin(iterations: number): void {
  let x = sink | 1;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  sink = x;
}

/** How fast this machine runs {@linkcode spin}. */
export interface CpuCalibration {
  /** Loop iterations per millisecond of CPU. */
  iterationsPerMs: number;
  /** How long calibrating took, ms. */
  tookMs: number;
}

/**
 * Measures how many {@linkcode spin} iterations make a millisecond of CPU
 * here. Each slice is timed by the process's CPU clock (`getrusage` through
 * `process.cpuUsage`) and by the wall clock, and the smaller counts: on a
 * busy machine a slice can take many times its CPU time in wall time, and in
 * a busy process other threads' CPU is charged too; either alone would make
 * every later burn too short. Runs for about `budgetMs` of CPU and keeps the
 * fastest slice.
 *
 * @param budgetMs CPU time to spend, ms. @default {80}
 * @returns The rate and the time it took.
 *
 * @example Usage
 * ```ts
 * import { calibrateCpu } from "./work.ts";
 * const { iterationsPerMs } = calibrateCpu(20);
 * console.log(iterationsPerMs > 0);
 * ```
 */
export function calibrateCpu(budgetMs = 80): CpuCalibration {
  const start = performance.now();
  const cpuStart = cpuMs();
  // Warm up so the JIT has optimised the loop before it is timed, growing the
  // slice until it takes at least 2 ms of CPU.
  let iterations = 1000;
  while (true) {
    const t = cpuMs();
    spin(iterations);
    if (cpuMs() - t >= 2 || cpuMs() - cpuStart > budgetMs / 4) break;
    iterations *= 2;
  }
  let best = 0;
  while (cpuMs() - cpuStart < budgetMs) {
    const t = cpuMs();
    const w = performance.now();
    spin(iterations);
    // Both clocks overstate this thread's CPU time: the process clock also
    // counts other threads, the wall clock also counts preemption. The
    // smaller is the closer.
    const took = Math.min(cpuMs() - t, performance.now() - w);
    if (took > 0) best = Math.max(best, iterations / took);
  }
  return { iterationsPerMs: Math.max(1, Math.round(best)), tookMs: performance.now() - start };
}

/** This process's CPU time (user + system), ms; the wall clock where it cannot be read. */
function cpuMs(): number {
  try {
    const { user, system } = nodeProcess()!.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return performance.now();
  }
}

/**
 * Burns about `ms` of CPU on the calling thread.
 *
 * @param ms CPU time to spend, ms.
 * @param iterationsPerMs The rate from {@linkcode calibrateCpu}.
 *
 * @example Usage
 * ```ts
 * import { burnCpu, calibrateCpu } from "./work.ts";
 * burnCpu(0.2, calibrateCpu(20).iterationsPerMs);
 * ```
 */
export function burnCpu(ms: number, iterationsPerMs: number): void {
  spin(Math.max(1, Math.round(ms * iterationsPerMs)));
}

/**
 * Runs `cpu` work's loop for about 10 ms so a fresh thread or process has it
 * optimised before the first message (the calibration warmed another isolate's
 * copy); does nothing for other work.
 *
 * @param work The work, if any.
 * @param iterationsPerMs The CPU rate.
 *
 * @example Usage
 * ```ts
 * import { warmUpCpu } from "./work.ts";
 * warmUpCpu({ kind: "cpu", ms: 1 }, 1000);
 * ```
 */
export function warmUpCpu(work: Work | undefined, iterationsPerMs: number): void {
  if (work?.kind === "cpu") burnCpu(10, iterationsPerMs);
}

/**
 * Does the work synchronously on the calling thread, as a thread-per-connection
 * server or a pool worker does: sleep and block both block the thread, the
 * file is read with a blocking read.
 *
 * @param work The work.
 * @param iterationsPerMs The CPU rate (only `cpu` work uses it).
 *
 * @example Usage
 * ```ts
 * import { doWorkSync } from "./work.ts";
 * doWorkSync({ kind: "sleep", ms: 1 }, 0);
 * ```
 */
export function doWorkSync(work: Work, iterationsPerMs: number): void {
  switch (work.kind) {
    case "sleep":
    case "block":
      blockFor(work.ms);
      return;
    case "cpu":
      burnCpu(work.ms, iterationsPerMs);
      return;
    case "file":
      Deno.readFileSync(work.path);
      return;
  }
}
