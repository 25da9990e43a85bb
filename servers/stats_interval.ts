/**
 * A server's own CPU and memory, sampled every few seconds. When the load
 * comes from other machines (`load --host`), nobody else can see the
 * server's CPU: `serve --stats-interval S` prints these lines itself and
 * `--stats-json FILE` keeps the series for `compare`.
 *
 * The process is sampled as a whole, so the Worker threads of the `blocking`
 * and `nonblocking` modes are included.
 *
 * @example Usage
 * ```ts ignore
 * import { formatStatsInterval, startStatsInterval } from "./stats_interval.ts";
 * const monitor = startStatsInterval({
 *   intervalMs: 5000,
 *   stats: () => server.stats(),
 *   onSample: (s) => console.log(formatStatsInterval(s)),
 * });
 * // … later
 * const series = monitor.stop();
 * ```
 *
 * @module
 */
import { cpuPercent, readSelfUsage, type SelfUsage } from "./proc_stats.ts";
import type { Mode, ServerAddr, ServerStats } from "./types.ts";

/** One interval of the server's own resource use and counters. */
export interface StatsIntervalSample {
  /** End of the interval, epoch ms. */
  time: number;
  /** Length of the interval as measured, ms. */
  elapsedMs: number;
  /** User+system CPU over the interval, % of one core (200 = two cores busy). */
  cpuPercent: number;
  /** Resident set size at the end of the interval, bytes. */
  rssBytes: number;
  /** Virtual size at the end of the interval, bytes; null without `/proc` (macOS). */
  vszBytes: number | null;
  /** The server's counters at the end of the interval. */
  stats: ServerStats;
}

/** What `serve --stats-json FILE` writes: the server's own series. */
export interface ServerStatsSeries {
  /** `echokit/serve-stats` (`util/schema.ts`). */
  schema: "echokit/serve-stats";
  /** Format version of this document. */
  schemaVersion: 1;
  /** The mode served. */
  mode: Mode;
  /** Where it listened. */
  addr: ServerAddr;
  /** The server's process id. */
  pid: number;
  /** The host it ran on (`Deno.hostname()`), to tell several servers apart. */
  hostname: string;
  /** The sampling interval asked for, ms. */
  intervalMs: number;
  /** When sampling started, epoch ms. */
  startTime: number;
  /** When sampling stopped, epoch ms. */
  endTime: number;
  /** Every interval, oldest first; the last one may be shorter (it ends at stop). */
  samples: StatsIntervalSample[];
}

/** Options for {@linkcode startStatsInterval}. */
export interface StatsIntervalOptions {
  /** Sampling interval, ms. */
  intervalMs: number;
  /** Reads the server's counters. */
  stats: () => ServerStats;
  /** Called with each sample as it is taken (not with the final one from `stop`). */
  onSample?: (sample: StatsIntervalSample) => void;
}

/** A running sampler. */
export interface StatsInterval {
  /** The samples so far. */
  readonly samples: readonly StatsIntervalSample[];
  /**
   * Stops sampling, taking one last sample for the time since the previous one.
   *
   * @returns Every sample, oldest first.
   */
  stop(): StatsIntervalSample[];
}

/**
 * Starts sampling this process's CPU and memory and a server's counters.
 *
 * @param options Interval, counters, and what to do with each sample.
 * @returns The running sampler; call `stop()` to end it.
 *
 * @example Usage
 * ```ts
 * import { startStatsInterval } from "./stats_interval.ts";
 * const zero = { accepted: 0, active: 0, closed: 0, bytesIn: 0, bytesOut: 0, errors: 0 };
 * const monitor = startStatsInterval({ intervalMs: 1000, stats: () => zero });
 * console.log(monitor.stop().length); // 1
 * ```
 */
export function startStatsInterval(options: StatsIntervalOptions): StatsInterval {
  const samples: StatsIntervalSample[] = [];
  let prev: SelfUsage = readSelfUsage();
  let prevAt = performance.now();
  let stopped = false;

  const take = (): StatsIntervalSample => {
    const now = performance.now();
    const usage = readSelfUsage();
    const elapsedMs = now - prevAt;
    const sample: StatsIntervalSample = {
      time: Date.now(),
      elapsedMs: Math.round(elapsedMs * 1000) / 1000,
      cpuPercent: Math.round(cpuPercent(prev, usage, elapsedMs) * 10) / 10,
      rssBytes: usage.rssBytes,
      vszBytes: usage.vszBytes ?? null,
      stats: options.stats(),
    };
    prev = usage;
    prevAt = now;
    samples.push(sample);
    return sample;
  };

  const timer = setInterval(() => {
    const sample = take();
    options.onSample?.(sample);
  }, options.intervalMs);

  return {
    samples,
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        take();
      }
      return samples.slice();
    },
  };
}

const MIB = 1024 * 1024;

/**
 * Formats a sample as one stable, grep-able line:
 * `stats-interval time=ISO cpu=12.3% rss=34.1MiB vsz=1203.0MiB accepted=… active=… …`
 * (`vsz=n/a` where it cannot be read).
 *
 * @param sample The sample.
 * @returns The line, without a newline.
 *
 * @example Usage
 * ```ts
 * import { formatStatsInterval } from "./stats_interval.ts";
 * const stats = { accepted: 2, active: 1, closed: 1, bytesIn: 10, bytesOut: 10, errors: 0 };
 * const line = formatStatsInterval({
 *   time: 0, elapsedMs: 1000, cpuPercent: 12.34, rssBytes: 32 * 1024 * 1024, vszBytes: null, stats,
 * });
 * console.log(line);
 * // stats-interval time=1970-01-01T00:00:00.000Z cpu=12.3% rss=32.0MiB vsz=n/a accepted=2 …
 * ```
 */
export function formatStatsInterval(sample: StatsIntervalSample): string {
  const mib = (n: number | null) => n === null ? "n/a" : `${(n / MIB).toFixed(1)}MiB`;
  const parts = [
    "stats-interval",
    `time=${new Date(sample.time).toISOString()}`,
    `cpu=${sample.cpuPercent.toFixed(1)}%`,
    `rss=${mib(sample.rssBytes)}`,
    `vsz=${mib(sample.vszBytes)}`,
  ];
  for (const [k, v] of Object.entries(sample.stats)) if (v !== undefined) parts.push(`${k}=${v}`);
  return parts.join(" ");
}
