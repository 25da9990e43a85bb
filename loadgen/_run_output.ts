/**
 * What `runLoad` turns its workers' reports into: JTL rows, per-side CPU and
 * memory summaries, the fairness spread, the progress snapshot. Private to `loadgen/`;
 * `fairnessOf` and `LoadProgress` are re-exported by `run.ts`.
 *
 * @module
 */
import { ERROR_KINDS, JTL, JTL_STRIDE } from "./_engine_types.ts";
import type { JtlWriter } from "./jtl.ts";
import { type ResourceReading, usageBetween } from "./resource_monitor.ts";
import type { Fairness, ResourceSample, ResourceSummary } from "./types.ts";

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx];
}

/**
 * Round trips per connection as min / p5 / median / p95 / max.
 *
 * @param counts One count per thread.
 * @returns The spread.
 */
export function fairnessOf(counts: number[]): Fairness {
  const s = [...counts].sort((a, b) => a - b);
  return {
    min: s[0] ?? 0,
    p5: quantile(s, 0.05),
    median: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    max: s[s.length - 1] ?? 0,
  };
}

/**
 * Unpacks a worker's JTL records into JMeter rows (main thread, off the
 * sampling path); samples that start before `warmupEnd` go to `warmup`.
 */
export function writeJtlRows(
  measured: JtlWriter,
  rows: Float64Array,
  active: number,
  options: { warmup?: { writer: JtlWriter; end: number }; actual?: boolean } = {},
): void {
  const { warmup } = options;
  for (let off = 0; off < rows.length; off += JTL_STRIDE) {
    const kind = rows[off + JTL.kind];
    const start = rows[off + JTL.start];
    const jtl = warmup && start < warmup.end ? warmup.writer : measured;
    jtl.write({
      timeStamp: Math.floor(options.actual ? rows[off + JTL.sent] : start),
      timerWait: rows[off + JTL.wait],
      elapsed: rows[off + JTL.elapsed],
      success: kind < 0,
      errorKind: kind < 0 ? undefined : ERROR_KINDS[kind],
      bytes: rows[off + JTL.bytes],
      threadIndex: rows[off + JTL.thread],
      grpThreads: active,
      allThreads: active,
      latency: rows[off + JTL.latency],
      connect: rows[off + JTL.connect],
    });
  }
}

/** One measured side (server or generator): its monitor and running peaks. */
export interface Side {
  monitor: { read(): ResourceReading | undefined };
  base?: ResourceReading;
  lastPlus?: ResourceReading;
  last?: ResourceReading;
  peakRss: number;
  peakVsz: number;
  series: ResourceSample[];
}

/** A side with nothing read yet. */
export function newSide(monitor: { read(): ResourceReading | undefined }): Side {
  return { monitor, peakRss: 0, peakVsz: 0, series: [] };
}

/** Reads the side once, keeping the peaks; undefined when it cannot be read. */
export function readSide(side: Side): ResourceReading | undefined {
  const r = side.monitor.read();
  if (r) {
    side.last = r;
    if (r.rssBytes > side.peakRss) side.peakRss = r.rssBytes;
    if (r.vszBytes > side.peakVsz) side.peakVsz = r.vszBytes;
  }
  return r;
}

/** The side over the whole run, per `samples` successful samples. */
export function summarise(side: Side, samples: number): ResourceSummary | undefined {
  const end = readSide(side);
  if (!side.base || !end) return undefined;
  const u = usageBetween(side.base, end);
  const cpuSeconds = (end.userSeconds - side.base.userSeconds) +
    (end.systemSeconds - side.base.systemSeconds);
  return {
    cpuPercentMean: u.cpuPercent,
    cpuUsPerSample: samples > 0 ? cpuSeconds * 1e6 / samples : 0,
    peakRssBytes: side.peakRss,
    peakVszBytes: Number.isFinite(side.peakVsz) && side.peakVsz > 0 ? side.peakVsz : NaN,
    series: side.series,
  };
}

/** A live snapshot of a run, for progress displays. */
export interface LoadProgress {
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** Samples so far (warm-up included). */
  samples: number;
  /** Failed samples so far (warm-up included). */
  errors: number;
  /** Samples per second over the last progress period. */
  rate: number;
  /** Threads running now. */
  active: number;
  /** Threads started so far. */
  started: number;
  /** Threads finished so far. */
  finished: number;
  /** Threads in the plan. */
  threads: number;
  /** Samples the plan will take when nothing stops early (undefined: open-ended). */
  expected?: number;
  /** True during the warm-up. */
  warmup: boolean;
}
