/**
 * JMeter's summariser: its rules for when the `summary +` / `summary =` lines
 * appear (JMeter 5.x `Summariser.sampleOccurred` / `testEnded`), fed with
 * per-worker aggregates instead of one call per sample. The lines themselves
 * are written by {@link ./summary_line.ts}.
 *
 * The lines are returned, never printed: the caller decides where they go.
 *
 * @example Usage
 * ```ts
 * import { Summariser } from "./summariser.ts";
 * const summariser = new Summariser({
 *   startTime: 1_700_000_000_000,
 *   threadCounts: () => ({ active: 1, started: 1, finished: 0 }),
 * });
 * summariser.add({ count: 10, errors: 0, sumElapsedMs: 20, minMs: 1, maxMs: 3 }, 1_700_000_002_000);
 * console.log(summariser.end(1_700_000_002_000).lines[0]);
 * // summary =     10 in 00:00:02 =    5.0/s Avg:     2 Min:     1 Max:     3 Err:     0 (0.00%)
 * ```
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { truncDiv } from "./_decimal.ts";
import { formatSummaryLine, type ResourceUsage, type ThreadCounts } from "./summary_line.ts";
import type { IntervalRecord } from "./types.ts";

/** JMeter's `INTERVAL_WINDOW`: a report may come up to 5 s after a boundary. */
const INTERVAL_WINDOW = 5;

/**
 * A worker's aggregate of the samples it completed since its previous batch.
 * The summariser only ever needs these sums, so workers never send one message
 * per sample.
 */
export interface SampleBatch {
  /** Samples completed (successes and failures). */
  count: number;
  /** Failed samples among them. */
  errors: number;
  /** Sum of each sample's elapsed time in whole ms (JMeter's `SampleResult.getTime()`). */
  sumElapsedMs: number;
  /** Smallest elapsed ms among them. */
  minMs: number;
  /** Largest elapsed ms among them. */
  maxMs: number;
  /**
   * Epoch ms at which the last of them ended; the delta's elapsed time runs to
   * this instant (JMeter: "to the last sample added").
   * @default {the batch's arrival time}
   */
  lastEndTime?: number;
}

/** The span a summary line covers, handed to {@linkcode SummariserOptions.resources}. */
export interface SummarySpan {
  /** `+` for an interval line, `=` for a running-total line. */
  type: "+" | "=";
  /** Epoch ms where the span starts (previous report, or the test start). */
  startTime: number;
  /** Epoch ms where the span ends. */
  endTime: number;
}

/** The numbers behind one printed line, with JMeter's derived figures. */
export interface SummaryStats {
  /** Samples. */
  count: number;
  /** Failed samples. */
  errors: number;
  /** Milliseconds spanned (0 when `count` is 0, as in JMeter). */
  elapsedMs: number;
  /** Sum of elapsed ms. */
  sumElapsedMs: number;
  /** JMeter `Min`, ms; 0 when `count` is 0 (JMeter prints `Long.MAX_VALUE`). */
  minMs: number;
  /** JMeter `Max`, ms; 0 when `count` is 0 (JMeter prints `Long.MIN_VALUE`). */
  maxMs: number;
  /** JMeter `Avg`: truncated mean elapsed ms. */
  avgMs: number;
  /** Samples per second (`count / elapsedMs * 1000`); 0 when `elapsedMs` is 0 (JMeter prints `******`). */
  rate: number;
  /** Epoch ms the span starts. */
  startTime: number;
  /** Epoch ms the span ends. */
  endTime: number;
}

/** What one report (or the end of the test) produced. */
export interface SummaryReport {
  /** The lines to print, in order: a `summary +` and/or a `summary =` line. */
  lines: string[];
  /** The `+` line's numbers; absent when no `+` line was printed. */
  interval?: IntervalRecord;
  /** The `=` line's numbers; absent when no `=` line was printed. */
  total?: SummaryStats;
}

/** Options for {@linkcode Summariser}. */
export interface SummariserOptions {
  /** Called at each `+` line for JMeter's `Active`/`Started`/`Finished`. */
  threadCounts: () => ThreadCounts;
  /** The name printed first on each line. @default {"summary"} */
  name?: string;
  /** JMeter's `summariser.interval`, whole seconds (1–86400). @default {30} */
  intervalSeconds?: number;
  /** Epoch ms of the test start (JMeter: summariser creation). @default {clock()} */
  startTime?: number;
  /** The clock used when `add`/`end` get no explicit time. @default {Date.now} */
  clock?: () => number;
  /**
   * Called once per printed line with the span it covers; what it returns is
   * appended as the resource extension. Without it lines are pure JMeter.
   */
  resources?: (span: SummarySpan) => ResourceUsage;
}

/** JMeter's `getRate()` as a double (same operations, same IEEE rounding as Java). */
function jmeterRate(count: number, elapsedMs: number): number {
  if (count === 0 || elapsedMs === 0) return 0;
  return count / elapsedMs * 1000;
}

/** JMeter's `SummariserRunningSample`. */
class RunningSample {
  count = 0;
  errors = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  startTime: number;
  endTime: number;

  constructor(now: number) {
    this.startTime = now;
    this.endTime = now;
  }

  clear(now: number): void {
    this.count = this.errors = this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.startTime = this.endTime = now;
  }

  addBatch(batch: SampleBatch, endTime: number): void {
    this.count += batch.count;
    this.errors += batch.errors;
    this.sum += batch.sumElapsedMs;
    if (batch.minMs < this.min) this.min = batch.minMs;
    if (batch.maxMs > this.max) this.max = batch.maxMs;
    // Batches from parallel workers can carry samples that ended before this
    // delta began; never let the span go negative.
    if (endTime > this.endTime) this.endTime = endTime;
  }

  addRunning(other: RunningSample, now: number): void {
    this.count += other.count;
    this.errors += other.errors;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.endTime = now; // JMeter: "end time to be current time so sample rates reflect real time"
  }

  stats(): SummaryStats {
    const elapsedMs = this.count === 0 ? 0 : this.endTime - this.startTime;
    return {
      count: this.count,
      errors: this.errors,
      elapsedMs,
      sumElapsedMs: this.sum,
      minMs: this.count === 0 ? 0 : this.min,
      maxMs: this.count === 0 ? 0 : this.max,
      avgMs: this.count === 0 ? 0 : truncDiv(this.sum, this.count),
      rate: jmeterRate(this.count, elapsedMs),
      startTime: this.startTime,
      endTime: this.endTime,
    };
  }
}

/**
 * JMeter's summariser fed with aggregated batches. Call
 * {@linkcode Summariser.add} whenever a worker's batch arrives and
 * {@linkcode Summariser.end} once at test end; print the lines they return.
 *
 * Timing rules (JMeter's `Summariser.sampleOccurred`, `testEnded`):
 * - A report is triggered only by arriving samples, when `now > last + 5 s`
 *   and `now % interval <= 5 s` (whole epoch seconds), so lines land near
 *   wall-clock multiples of the interval and the first covers less than one.
 * - Each report prints the `+` line (the delta), then the `=` line (running
 *   total) only if the total count differs from the delta count — never on
 *   the first report.
 * - At the end: a final `+` only if the delta has samples and an earlier
 *   report happened, then `=` always. A short test prints one `=` line.
 * - A delta spans from the previous report (or the test start) to the last
 *   sample added; the total spans from the test start to the report.
 *
 * @example Usage
 * ```ts
 * import { Summariser } from "./summariser.ts";
 * const t0 = Date.UTC(2024, 0, 1, 0, 0, 0);
 * const summariser = new Summariser({
 *   startTime: t0,
 *   threadCounts: () => ({ active: 2, started: 2, finished: 0 }),
 * });
 * const batch = { count: 100, errors: 0, sumElapsedMs: 250, minMs: 1, maxMs: 9 };
 * summariser.add(batch, t0 + 10_000); // nothing: 00:00:10 is outside the window
 * console.log(summariser.add(batch, t0 + 30_000)?.lines); // the first "summary +" line
 * ```
 */
export class Summariser {
  readonly #name: string;
  readonly #interval: number;
  readonly #clock: () => number;
  readonly #threadCounts: () => ThreadCounts;
  readonly #resources?: (span: SummarySpan) => ResourceUsage;
  readonly #delta: RunningSample;
  readonly #total: RunningSample;
  /** Epoch seconds of the last report; JMeter starts it at 0. */
  #last = 0;
  #ended = false;

  /**
   * Starts a summariser (JMeter: at `testStarted`).
   *
   * @param options Thread counts, interval, clock, resources.
   */
  constructor(options: SummariserOptions) {
    const interval = options.intervalSeconds ?? 30;
    if (!Number.isInteger(interval) || interval < 1 || interval > 86400) {
      throw new UsageError(
        `Invalid summary interval "${interval}" (use a whole number of seconds from 1 to 86400)`,
      );
    }
    this.#name = options.name ?? "summary";
    this.#interval = interval;
    this.#clock = options.clock ?? Date.now;
    this.#threadCounts = options.threadCounts;
    this.#resources = options.resources;
    const start = options.startTime ?? this.#clock();
    this.#delta = new RunningSample(start);
    this.#total = new RunningSample(start);
  }

  /** Epoch ms of the test start. */
  get startTime(): number {
    return this.#total.startTime;
  }

  /**
   * Adds a batch of completed samples and reports if JMeter would have.
   *
   * @param batch The samples' aggregate; a batch with `count` 0 is ignored
   *   (JMeter only reacts to samples).
   * @param now The batch's arrival time, epoch ms. @default {clock()}
   * @returns The report to print, or undefined when no line is due.
   */
  add(batch: SampleBatch, now: number = this.#clock()): SummaryReport | undefined {
    if (this.#ended) throw new Error("Summariser.add() called after end()");
    if (batch.count <= 0) return undefined;
    this.#delta.addBatch(batch, batch.lastEndTime ?? now);
    const nowSec = Math.floor(now / 1000);
    if (!(nowSec > this.#last + INTERVAL_WINDOW && nowSec % this.#interval <= INTERVAL_WINDOW)) {
      return undefined;
    }
    this.#last = nowSec;
    const delta = this.#delta.stats();
    this.#total.addRunning(this.#delta, now);
    this.#delta.clear(now);
    const report: SummaryReport = { lines: [] };
    report.interval = this.#plusLine(delta, report.lines);
    // JMeter prints the total only when it differs from the delta.
    if (this.#total.count !== delta.count) report.total = this.#equalsLine(report.lines);
    return report;
  }

  /**
   * Ends the test (JMeter's `testEnded`): a final `+` line if the delta has
   * samples and an earlier report happened, then the `=` line always.
   *
   * @param now The end time, epoch ms. @default {clock()}
   * @returns The final lines and numbers; `total` is always set.
   */
  end(now: number = this.#clock()): SummaryReport & { total: SummaryStats } {
    if (this.#ended) throw new Error("Summariser.end() called twice");
    this.#ended = true;
    // JMeter: total.delta.setEndTime(), so the last delta runs to the end.
    if (now > this.#delta.endTime) this.#delta.endTime = now;
    const lines: string[] = [];
    let interval: IntervalRecord | undefined;
    if (this.#delta.count > 0 && this.#total.count > 0) {
      interval = this.#plusLine(this.#delta.stats(), lines);
    }
    this.#total.addRunning(this.#delta, now);
    this.#delta.clear(now);
    const total = this.#equalsLine(lines);
    return interval ? { lines, interval, total } : { lines, total };
  }

  #plusLine(delta: SummaryStats, lines: string[]): IntervalRecord {
    const threads = this.#threadCounts();
    const resources = this.#resources?.({
      type: "+",
      startTime: delta.startTime,
      endTime: delta.endTime,
    });
    lines.push(formatSummaryLine({ ...delta, name: this.#name, type: "+", threads, resources }));
    const record: IntervalRecord = {
      time: delta.endTime,
      count: delta.count,
      errors: delta.errors,
      elapsedMs: delta.elapsedMs,
      rate: delta.rate,
      avgMs: delta.avgMs,
      active: threads.active,
      started: threads.started,
      finished: threads.finished,
    };
    if (resources?.server) record.server = resources.server;
    if (resources?.generator) record.generator = resources.generator;
    return record;
  }

  #equalsLine(lines: string[]): SummaryStats {
    const total = this.#total.stats();
    const resources = this.#resources?.({
      type: "=",
      startTime: total.startTime,
      endTime: total.endTime,
    });
    lines.push(formatSummaryLine({ ...total, name: this.#name, type: "=", resources }));
    return total;
  }
}
