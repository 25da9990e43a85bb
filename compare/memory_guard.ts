/**
 * Keeps the thread-per-connection mode from swapping the machine to death:
 * estimates threads × per-thread memory against what is available, and caps
 * the server's thread count or skips the run with a clear message.
 *
 * @module
 */

import { DEFAULT_MAX_THREADS } from "../servers/types.ts";

/**
 * RSS one `blocking`-mode Worker thread costs, bytes: a whole V8 isolate.
 * Measured with `serve --mode blocking --max-threads 100 --prespawn 100`
 * (its `prespawn:` line, RSS growth over the prespawn) on a 2-core x86_64
 * machine, 2026-12-07: 7.9 MiB per thread (an empty Deno Worker alone is
 * 7.3 MiB); rounded up. Rerun it to check this figure on another machine.
 */
export const BLOCKING_THREAD_BYTES: number = 8 * 1024 * 1024;

/** Inputs of {@linkcode guardThreads}. */
export interface ThreadGuardOptions {
  /** Connections the plan opens at once (its threads). */
  connections: number;
  /** Bytes available to new processes now (`MemAvailable`); undefined = unknown, no guard. */
  memAvailableBytes: number | undefined;
  /**
   * Thread cap the server would use on its own.
   *
   * @default {DEFAULT_MAX_THREADS} (the `blocking` server's `--max-threads` default)
   */
  maxThreads?: number;
  /** Memory one thread costs, bytes. @default {BLOCKING_THREAD_BYTES} */
  perThreadBytes?: number;
  /**
   * Share of available memory the server may take; the rest is left for the
   * load generator, the OS and the page cache.
   *
   * @default {0.6}
   */
  usableFraction?: number;
  /** Fewest threads worth running; fewer means skip. @default {8} */
  minThreads?: number;
  /** What to do when the estimate does not fit. @default {"cap"} */
  policy?: "cap" | "skip";
}

/** What {@linkcode guardThreads} decided. */
export interface ThreadGuardDecision {
  /** Run as planned, run with fewer threads, or do not run. */
  action: "ok" | "cap" | "skip";
  /** Threads the server would start for this plan. */
  wanted: number;
  /** Threads it may start (pass as `--max-threads` when capping). */
  threads: number;
  /** Estimated memory of `wanted` threads, bytes. */
  estimateBytes: number;
  /** A sentence for the user; empty when the plan fits. */
  message: string;
}

/**
 * Decides how many threads a thread-per-connection server may start.
 *
 * @param options Connections, memory available, per-thread cost.
 * @returns Run, cap (with the thread count) or skip, and why.
 *
 * @example Usage
 * ```ts
 * import { guardThreads } from "./memory_guard.ts";
 * // The server's own cap (128 threads) fits in 60% of 4 GiB:
 * const d = guardThreads({ connections: 10_000, memAvailableBytes: 4 * 2 ** 30 });
 * console.log(d.action, d.threads); // "ok" 128
 * // One thread per connection does not:
 * const all = guardThreads({
 *   connections: 10_000,
 *   maxThreads: 10_000,
 *   memAvailableBytes: 4 * 2 ** 30,
 * });
 * console.log(all.action, all.threads); // "cap" 273
 * ```
 */
export function guardThreads(options: ThreadGuardOptions): ThreadGuardDecision {
  const perThread = options.perThreadBytes ?? BLOCKING_THREAD_BYTES;
  const wanted = Math.min(options.connections, options.maxThreads ?? DEFAULT_MAX_THREADS);
  const estimateBytes = wanted * perThread;
  const available = options.memAvailableBytes;
  if (available === undefined) {
    return { action: "ok", wanted, threads: wanted, estimateBytes, message: "" };
  }
  const budget = available * (options.usableFraction ?? 0.6);
  if (estimateBytes <= budget) {
    return { action: "ok", wanted, threads: wanted, estimateBytes, message: "" };
  }
  const fits = Math.floor(budget / perThread);
  const why = `${wanted} threads × ${mib(perThread)} ≈ ${gib(estimateBytes)} exceeds the ` +
    `${gib(budget)} budget (${Math.round((options.usableFraction ?? 0.6) * 100)}% of ` +
    `${gib(available)} available)`;
  if ((options.policy ?? "cap") === "skip" || fits < (options.minThreads ?? 8)) {
    return {
      action: "skip",
      wanted,
      threads: 0,
      estimateBytes,
      message: `memory guard: ${why}; skipped (lower --connections or free memory)`,
    };
  }
  return {
    action: "cap",
    wanted,
    threads: fits,
    estimateBytes,
    message: `memory guard: ${why}; capped at --max-threads ${fits}, ` +
      `further connections wait in the backlog`,
  };
}

/**
 * Reads `MemAvailable` from `/proc/meminfo`.
 *
 * @param text The file's text (tests inject it). @default {the real file}
 * @returns Bytes, or undefined where there is no `/proc` (macOS) or no such line.
 *
 * @example Usage
 * ```ts
 * import { readMemAvailable } from "./memory_guard.ts";
 * console.log(readMemAvailable("MemAvailable:    2048 kB\n")); // 2097152
 * ```
 */
export function readMemAvailable(text?: string): number | undefined {
  return readMeminfo("MemAvailable", text);
}

/**
 * Reads `MemTotal` from `/proc/meminfo`, falling back to `Deno.systemMemoryInfo()`.
 *
 * @returns Bytes, 0 when unknown.
 *
 * @example Usage
 * ```ts
 * import { readMemTotal } from "./memory_guard.ts";
 * console.log(readMemTotal() >= 0); // true
 * ```
 */
export function readMemTotal(): number {
  try {
    return readMeminfo("MemTotal") ?? Deno.systemMemoryInfo().total;
  } catch {
    return 0;
  }
}

function readMeminfo(key: string, text?: string): number | undefined {
  let body = text;
  if (body === undefined) {
    try {
      body = Deno.readTextFileSync("/proc/meminfo");
    } catch {
      return undefined;
    }
  }
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(body);
  return m ? Number(m[1]) * 1024 : undefined;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
