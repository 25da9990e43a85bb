/**
 * Pass/fail thresholds on a load result, k6-style: `p99<5ms`, `err<0.1%`,
 * `rate>1000/s`. {@linkcode parseThreshold} turns the text into a
 * {@linkcode Threshold} (a bad one is a {@linkcode UsageError});
 * {@linkcode checkThresholds} evaluates them against a {@linkcode LoadResult}.
 * The CLI exits {@linkcode THRESHOLD_EXIT_CODE} when one fails, as k6 does.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import type { LoadResult, ThresholdOutcome } from "./types.ts";

export type { ThresholdOutcome };

/** The exit code of a run whose thresholds failed (k6's). */
export const THRESHOLD_EXIT_CODE = 99;

/** What a threshold measures. */
export type ThresholdMetric =
  | "p50"
  | "p90"
  | "p95"
  | "p99"
  | "p99.9"
  | "avg"
  | "min"
  | "max"
  | "err"
  | "rate";

/** The comparison a threshold makes: the metric must be `op` the limit. */
export type ThresholdOp = "<" | "<=" | ">" | ">=";

/** One parsed threshold. */
export interface Threshold {
  /** The text as given (`p99<5ms`). */
  source: string;
  /** What is measured. */
  metric: ThresholdMetric;
  /** The comparison. */
  op: ThresholdOp;
  /** The limit in the metric's base unit: µs for latency, a fraction for err, per second for rate. */
  limit: number;
}

const LATENCY = ["p50", "p90", "p95", "p99", "p99.9", "avg", "min", "max"];
const LATENCY_UNITS: Record<string, number> = { us: 1, "µs": 1, ms: 1000, s: 1_000_000 };
const HINT = "use e.g. p99<5ms, avg<=800us, err<0.1%, rate>1000/s; " +
  "metrics p50, p90, p95, p99, p99.9, avg, min, max, err, rate";

/**
 * Parses one threshold.
 *
 * @param raw The text given (`p99<5ms`); a latency needs a unit (us, ms, s),
 *   `err` takes a percentage or a fraction, `rate` a number with or without `/s`.
 * @returns The threshold.
 * @throws {UsageError} When the text is not a threshold.
 *
 * @example Usage
 * ```ts
 * import { parseThreshold } from "./thresholds.ts";
 * console.log(parseThreshold("p99<5ms").limit); // 5000
 * ```
 */
export function parseThreshold(raw: string): Threshold {
  const bad = (why: string) => new UsageError(`Invalid --threshold "${raw}" (${why})`);
  const m = /^\s*([a-z0-9.]+)\s*(<=|>=|<|>)\s*(\S+?)\s*$/i.exec(raw);
  if (!m) throw bad(HINT);
  const metric = m[1].toLowerCase();
  const op = m[2] as ThresholdOp;
  const value = m[3];
  const num = (text: string) => /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  let limit: number;
  if (LATENCY.includes(metric)) {
    const v = /^([\d.]+)(us|µs|ms|s)$/.exec(value);
    limit = v ? num(v[1]) * LATENCY_UNITS[v[2]] : Number.NaN;
    if (!Number.isFinite(limit)) {
      throw bad(`give a time with a unit: us, ms or s, e.g. ${metric}<5ms`);
    }
  } else if (metric === "err") {
    limit = value.endsWith("%") ? num(value.slice(0, -1)) / 100 : num(value);
    if (!(limit <= 1)) throw bad("give a percentage or a fraction, e.g. err<0.1% or err<0.001");
  } else if (metric === "rate") {
    limit = num(value.replace(/\/s$/, ""));
    if (!Number.isFinite(limit)) throw bad("give samples per second, e.g. rate>1000/s");
  } else {
    throw bad(`unknown metric "${m[1]}": ${HINT}`);
  }
  return { source: raw.trim(), metric: metric as ThresholdMetric, op, limit };
}

/**
 * Parses every `--threshold` given.
 *
 * @param raw The texts given (none: no thresholds).
 * @returns The thresholds, in order.
 */
export function parseThresholds(raw: readonly string[] = []): Threshold[] {
  return raw.map(parseThreshold);
}

function measure(t: Threshold, r: LoadResult): number {
  const l = r.latency;
  switch (t.metric) {
    case "p50":
      return l.p50Us;
    case "p90":
      return l.p90Us;
    case "p95":
      return l.p95Us;
    case "p99":
      return l.p99Us;
    case "p99.9":
      return l.p999Us;
    case "avg":
      return l.meanUs;
    case "min":
      return l.minMs * 1000;
    case "max":
      return l.maxMs * 1000;
    case "err":
      return r.samples === 0 ? 0 : r.errors / r.samples;
    case "rate":
      return r.rate;
  }
}

function describe(t: Threshold, v: number): string {
  if (t.metric === "err") return `${+(v * 100).toFixed(3)}%`;
  if (t.metric === "rate") return `${+v.toFixed(1)}/s`;
  return v >= 1000 ? `${+(v / 1000).toFixed(3)}ms` : `${+v.toFixed(1)}us`;
}

/**
 * Evaluates thresholds against one result. A run without samples fails every
 * latency and rate threshold: nothing was shown to meet them.
 *
 * @param thresholds The thresholds.
 * @param result What a run measured.
 * @returns One outcome per threshold, in order.
 *
 * @example Usage
 * ```ts ignore
 * import { checkThresholds, parseThresholds } from "./thresholds.ts";
 * const outcomes = checkThresholds(parseThresholds(["p99<5ms"]), result);
 * ```
 */
export function checkThresholds(
  thresholds: readonly Threshold[],
  result: LoadResult,
): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const actual = measure(t, result);
    const met = t.op === "<"
      ? actual < t.limit
      : t.op === "<="
      ? actual <= t.limit
      : t.op === ">"
      ? actual > t.limit
      : actual >= t.limit;
    const pass = met && (t.metric === "err" || result.samples > 0);
    return { threshold: t.source, actual, actualText: describe(t, actual), pass };
  });
}

/**
 * The outcomes as text lines, one per threshold (`threshold p99<5ms: pass (3.2ms)`).
 *
 * @param outcomes What {@linkcode checkThresholds} returned.
 * @param prefix Put before each line (a compare cell's name).
 * @returns The lines.
 */
export function formatThresholdLines(
  outcomes: readonly ThresholdOutcome[],
  prefix = "",
): string[] {
  return outcomes.map((o) =>
    `${prefix}threshold ${o.threshold}: ${o.pass ? "pass" : "FAIL"} (${o.actualText})`
  );
}
