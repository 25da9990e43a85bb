/**
 * Turns runs into table cells: medians with min–max spreads over repetitions,
 * and each cell's rate relative to the fastest (or a chosen baseline).
 *
 * @module
 */
import type { LoadResult } from "../loadgen/types.ts";
import type { Cell, RunRecord, Scenario, ServerColumn, Stat } from "./types.ts";

/**
 * Median of numbers: the middle value, or the mean of the middle two.
 *
 * @param values The numbers (not modified).
 * @returns The median, NaN when empty.
 *
 * @example Usage
 * ```ts
 * import { median } from "./aggregate.ts";
 * console.log(median([3, 1, 2, 10])); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Median, min, max and count of numbers; undefined when there are none.
 *
 * @param values The numbers; undefined and NaN entries are ignored.
 * @returns The figure with its spread.
 *
 * @example Usage
 * ```ts
 * import { stat } from "./aggregate.ts";
 * console.log(stat([10, 12, 11])); // { median: 11, min: 10, max: 12, n: 3 }
 * ```
 */
export function stat(values: readonly (number | undefined)[]): Stat | undefined {
  const xs = values.filter((v): v is number => v !== undefined && !Number.isNaN(v));
  if (xs.length === 0) return undefined;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/**
 * Half the min–max range as a percentage of the median: the `±` tables show.
 *
 * @param s The figure.
 * @returns Percent, 0 for a single run or a zero median.
 *
 * @example Usage
 * ```ts
 * import { spreadPercent } from "./aggregate.ts";
 * console.log(spreadPercent({ median: 100, min: 95, max: 105, n: 3 })); // 5
 * ```
 */
export function spreadPercent(s: Stat): number {
  if (s.n < 2 || s.median === 0) return 0;
  return ((s.max - s.min) / 2 / Math.abs(s.median)) * 100;
}

/** Options for {@linkcode aggregate}. */
export interface AggregateOptions {
  /** Server whose rate is 1.00× in each scenario. @default {the fastest in each scenario} */
  baseline?: string;
}

/**
 * Aggregates runs into one cell per scenario × server, with ratios.
 *
 * @param runs Every run (any order, any repetitions).
 * @param layout The scenarios (rows) and servers (columns).
 * @param options Baseline for the ratio column.
 * @returns Cells in scenario-major, then server order.
 *
 * @example Usage
 * ```ts
 * import { aggregate } from "./aggregate.ts";
 * const cells = aggregate([], {
 *   scenarios: [{ id: "plan2", plan: "plan2", connections: 100, loops: 10, label: "plan2" }],
 *   servers: [{ name: "stream", kind: "mode" }],
 * });
 * console.log(cells[0].skipped); // "not run"
 * ```
 */
export function aggregate(
  runs: readonly RunRecord[],
  layout: { scenarios: readonly Scenario[]; servers: readonly ServerColumn[] },
  options: AggregateOptions = {},
): Cell[] {
  const cells: Cell[] = [];
  for (const scenario of layout.scenarios) {
    const row: Cell[] = [];
    for (const server of layout.servers) {
      const mine = runs.filter((r) => r.server === server.name && r.scenario === scenario.id);
      row.push(cellOf(server.name, scenario.id, mine));
    }
    const reference = options.baseline !== undefined
      ? row.find((c) => c.server === options.baseline)?.rate?.median
      : Math.max(0, ...row.map((c) => c.rate?.median ?? 0));
    for (const cell of row) {
      if (cell.rate && reference && reference > 0) cell.ratio = cell.rate.median / reference;
    }
    cells.push(...row);
  }
  return cells;
}

function cellOf(server: string, scenario: string, runs: RunRecord[]): Cell {
  const done = runs.filter((r): r is RunRecord & { result: LoadResult } => r.result !== undefined);
  const notes = [...new Set(runs.map((r) => r.note).filter((n): n is string => !!n))];
  if (done.length === 0) {
    const reason = runs.find((r) => r.skipped)?.skipped ?? "not run";
    return { server, scenario, runs: 0, skipped: reason, notes };
  }
  const results = done.map((r) => r.result);
  // The headline line comes from one real run (the median by rate), so its
  // count, elapsed time and rate agree with each other as JMeter's would.
  const byRate = [...results].sort((a, b) => a.rate - b.rate);
  const mid = byRate[(byRate.length - 1) >> 1];
  return {
    server,
    scenario,
    runs: done.length,
    notes,
    headline: {
      count: mid.samples,
      elapsedMs: mid.endTime - mid.startTime,
      rate: mid.rate,
      avgMs: mid.latency.avgMs,
      minMs: mid.latency.minMs,
      maxMs: mid.latency.maxMs,
      errors: mid.errors,
    },
    rate: stat(results.map((r) => r.rate)),
    p50Us: stat(results.map((r) => r.latency.p50Us)),
    p99Us: stat(results.map((r) => r.latency.p99Us)),
    errorPercent: stat(results.map((r) => r.samples > 0 ? (r.errors / r.samples) * 100 : 0)),
    cpuPercent: stat(results.map((r) => r.server?.cpuPercentMean)),
    cpuUsPerMessage: stat(results.map((r) => r.server?.cpuUsPerSample)),
    loadCpuPercent: stat(results.map((r) => r.generator?.cpuPercentMean)),
    peakRssBytes: stat(results.map((r) => r.server?.peakRssBytes)),
    peakVszBytes: stat(results.map((r) => r.server?.peakVszBytes)),
    fairnessP5: stat(results.map((r) => r.fairness.p5)),
    fairnessP95: stat(results.map((r) => r.fairness.p95)),
    syscallsPerMessage: stat(
      done.map((r) =>
        r.syscalls !== undefined && r.result.samples > 0 ? r.syscalls / r.result.samples : undefined
      ),
    ),
  };
}
