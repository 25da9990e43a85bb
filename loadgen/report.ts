/**
 * Renders a {@linkcode LoadResult}: the final human table printed after a run,
 * and the machine-readable JSON document written by `--json`.
 *
 * @example Usage
 * ```ts ignore
 * import { formatReport, formatJsonDocument } from "./report.ts";
 * console.log(formatReport(result));
 * await Deno.writeTextFile("result.json", formatJsonDocument(result));
 * ```
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { UsageError } from "../util/errors.ts";
import { schemaTag } from "../util/schema.ts";
import { formatHalfEven } from "./_decimal.ts";
import { formatSummaryLine } from "./summary_line.ts";
import type { ErrorKind, LoadResult, ResourceSummary } from "./types.ts";

/** The `schema` value of echokit's load-result JSON document (`util/schema.ts`). */
export const LOAD_RESULT_SCHEMA = "echokit/load-result";
/** The tag before 0.x's one scheme (`"schema": "echokit.load-result", "version": 1`), still read. */
export const LEGACY_LOAD_RESULT_SCHEMA = "echokit.load-result";
/** The document's version; bumped when a field changes meaning or is removed. */
export const LOAD_RESULT_VERSION = 1;

const MIB = 1024 * 1024;

function known(n: number | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n);
}

/**
 * Formats a duration given in microseconds with a unit and 3 significant
 * digits: `850 µs`, `1.23 ms`, `45.6 ms`, `1.20 s`; `n/a` when unknown.
 *
 * @param us Microseconds.
 * @returns The text.
 *
 * @example Usage
 * ```ts
 * import { formatMicros } from "./report.ts";
 * console.log(formatMicros(12_345)); // 12.3 ms
 * ```
 */
export function formatMicros(us: number | undefined): string {
  if (!known(us)) return "n/a";
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toPrecision(3)} ms`;
  return `${(us / 1_000_000).toPrecision(3)} s`;
}

function mib(bytes: number | undefined): string {
  return known(bytes) ? `${(bytes / MIB).toFixed(1)} MiB` : "n/a";
}

function percent(p: number | undefined): string {
  return known(p) ? `${p.toFixed(1)}%` : "n/a";
}

function perSample(us: number | undefined): string {
  return known(us) ? `${us.toFixed(1)} µs/sample` : "n/a µs/sample";
}

function resources(side: ResourceSummary | undefined, memory: boolean): string {
  if (!side) return "n/a (not sampled)";
  const cpu = `CPU ${percent(side.cpuPercentMean)} of one core, ${perSample(side.cpuUsPerSample)}`;
  return memory ? `${cpu}; peak RSS ${mib(side.peakRssBytes)}, VSZ ${mib(side.peakVszBytes)}` : cpu;
}

function errorsByKind(result: LoadResult): string {
  const entries = (Object.entries(result.errorsByKind) as [ErrorKind, number][])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length === 0 ? "none" : entries.map(([k, n]) => `${k} ${n}`).join(", ");
}

/**
 * The run's JMeter `summary =` line, rebuilt from the result with elapsed =
 * `endTime - startTime`.
 *
 * @param result The run's result.
 * @returns The line.
 */
export function formatTotalLine(result: LoadResult): string {
  return formatSummaryLine({
    type: "=",
    count: result.samples,
    elapsedMs: result.endTime - result.startTime,
    sumElapsedMs: result.latency.avgMs * result.samples,
    minMs: result.latency.minMs,
    maxMs: result.latency.maxMs,
    errors: result.errors,
  });
}

/**
 * Renders the final human-readable report: JMeter's `summary =` line for the
 * whole run, then latency percentiles, errors by kind, fairness across
 * connections, and server/generator CPU and memory. Unknown figures print
 * `n/a`, never a guess.
 *
 * The `summary =` line is rebuilt from the result with elapsed =
 * `endTime - startTime` and JMeter's formatting ({@linkcode formatSummaryLine}).
 *
 * @param result The run's result.
 * @param options `summaryLine: false` leaves out the `summary =` line, for a
 * caller whose summariser has printed it already. @default {true}
 * @returns Lines joined with `\n`, no trailing newline.
 *
 * @example Usage
 * ```ts ignore
 * import { formatReport } from "./report.ts";
 * console.log(formatReport(result));
 * ```
 */
export function formatReport(
  result: LoadResult,
  options: { summaryLine?: boolean } = {},
): string {
  const { plan, target, latency, fairness } = result;
  const where = `${target.hostname}:${target.port}` +
    (target.mode || target.pid !== undefined
      ? ` (${
        [target.mode, target.pid !== undefined ? `pid ${target.pid}` : undefined].filter(Boolean)
          .join(", ")
      })`
      : "");
  const shape = `${plan.threads} threads × ${plan.loops === -1 ? "∞" : plan.loops} loops` +
    (plan.duration !== undefined ? ` for up to ${plan.duration} s` : "") +
    `, ramp-up ${plan.rampUp} s`;
  // Same rounding as the summary line's `#0.00%`, so the two never disagree.
  const share = formatHalfEven(result.samples > 0 ? result.errors / result.samples * 100 : 0, 2);
  const lines = [
    `echokit load: ${plan.name} (${shape}) → ${where}${result.interrupted ? " [interrupted]" : ""}`,
    ...(options.summaryLine === false ? [] : [formatTotalLine(result)]),
    "",
    `Latency    p50 ${formatMicros(latency.p50Us)}  p90 ${formatMicros(latency.p90Us)}  p95 ${
      formatMicros(latency.p95Us)
    }  p99 ${formatMicros(latency.p99Us)}  p99.9 ${formatMicros(latency.p999Us)}  (mean ${
      formatMicros(latency.meanUs)
    }, max ${known(latency.maxMs) && latency.count > 0 ? `${latency.maxMs} ms` : "n/a"})`,
    `Errors     ${result.errors} of ${result.samples} (${share}%): ${errorsByKind(result)}`,
    `Fairness   samples per connection: min ${fairness.min}  p5 ${fairness.p5}  median ${fairness.median}  p95 ${fairness.p95}  max ${fairness.max}`,
    `Server     ${resources(result.server, true)}`,
    `Generator  ${resources(result.generator, false)}`,
  ];
  if (result.warmup) {
    lines.push(
      `Warm-up    first ${result.warmup.seconds} s excluded: ${result.warmup.samples} samples, ${result.warmup.errors} errors`,
    );
  }
  if (result.openModel) {
    lines.push(
      `Open model requested ${result.openModel.requestedRate.toFixed(1)}/s, achieved ${
        result.openModel.achievedRate.toFixed(1)
      }/s`,
    );
  }
  return lines.join("\n");
}

/** Numbers JSON cannot carry (NaN, ±Infinity) become null; undefined fields are dropped. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = jsonSafe(v);
    return out;
  }
  return value;
}

/** echokit's load-result JSON document: the result plus identification. */
export interface LoadResultDocument extends LoadResult {
  /** Always {@linkcode LOAD_RESULT_SCHEMA}. */
  schema: string;
  /** Always {@linkcode LOAD_RESULT_VERSION}. */
  schemaVersion: number;
  /** The echokit version that produced it. */
  echokit: string;
  /** JMeter's `summary =` line for the run, as in the report. */
  summary: string;
}

/**
 * Builds the JSON document for a result: `schema`, `version`, `echokit`, the
 * `summary =` line, then every {@linkcode LoadResult} field. Numbers that JSON
 * cannot carry become `null`.
 *
 * @param result The run's result.
 * @returns A plain object, safe for `JSON.stringify`.
 *
 * @example Usage
 * ```ts ignore
 * import { toJsonDocument } from "./report.ts";
 * const doc = toJsonDocument(result);
 * console.log(doc.schema, doc.schemaVersion); // echokit/load-result 1
 * ```
 */
export function toJsonDocument(result: LoadResult): LoadResultDocument {
  const summary = formatTotalLine(result);
  return jsonSafe({
    ...schemaTag("load-result", LOAD_RESULT_VERSION),
    echokit: denoJson.version,
    summary,
    ...result,
  }) as LoadResultDocument;
}

/**
 * The JSON document as text: pretty-printed, with a trailing newline.
 *
 * @param result The run's result.
 * @returns The text to write with {@linkcode writeFileAtomic}.
 *
 * @example Usage
 * ```ts ignore
 * import { formatJsonDocument } from "./report.ts";
 * import { writeFileAtomic } from "../util/atomic_write.ts";
 * await writeFileAtomic("result.json", formatJsonDocument(result));
 * ```
 */
export function formatJsonDocument(result: LoadResult): string {
  return JSON.stringify(toJsonDocument(result), null, 2) + "\n";
}

// Fields every load-result document has, as dotted paths, by type.
const NUMBER_FIELDS = [
  "plan.threads",
  "plan.loops",
  "plan.rampUp",
  "startTime",
  "endTime",
  "samples",
  "errors",
  "rate",
  "latency.count",
  "latency.avgMs",
  "latency.minMs",
  "latency.maxMs",
  "latency.meanUs",
  "latency.p50Us",
  "latency.p90Us",
  "latency.p95Us",
  "latency.p99Us",
  "latency.p999Us",
  "fairness.min",
  "fairness.max",
];
const OBJECT_FIELDS = ["plan", "target", "errorsByKind", "latency", "fairness", "generator"];

function at(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const key of path.split(".")) {
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/**
 * Reads a load-result JSON document back into a {@linkcode LoadResult}: the
 * inverse of {@linkcode formatJsonDocument}. `null` numbers (NaN or infinity
 * when written) become NaN again.
 *
 * @param text The document's text.
 * @param source Where it came from (a file name), for error messages.
 * @returns The result (identification fields dropped).
 * @throws {UsageError} When the text is not JSON, not a load-result document
 * of a version this echokit reads, or lacks a field.
 *
 * @example Usage
 * ```ts ignore
 * import { parseJsonDocument } from "./report.ts";
 * const result = parseJsonDocument(await Deno.readTextFile("a.json"), "a.json");
 * console.log(result.samples);
 * ```
 */
export function parseJsonDocument(text: string, source: string): LoadResult {
  let doc: unknown;
  try {
    // Nothing in a result is null except the numbers JSON cannot carry.
    doc = JSON.parse(text, (_key, value) => value === null ? NaN : value);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UsageError(`Cannot read "${source}": not JSON (${why})`);
  }
  const schema = at(doc, "schema");
  if (schema !== LOAD_RESULT_SCHEMA && schema !== LEGACY_LOAD_RESULT_SCHEMA) {
    throw new UsageError(
      `Cannot read "${source}": schema "${schema}" is not "${LOAD_RESULT_SCHEMA}" (give a file written by echokit load --json)`,
    );
  }
  // The legacy tag carried its version as "version".
  const version = at(doc, schema === LOAD_RESULT_SCHEMA ? "schemaVersion" : "version");
  if (version !== LOAD_RESULT_VERSION) {
    throw new UsageError(
      `Cannot read "${source}": version "${version}" of ${LOAD_RESULT_SCHEMA} is not ${LOAD_RESULT_VERSION} (use the echokit version that wrote it)`,
    );
  }
  const missing = [
    ...OBJECT_FIELDS.filter((f) => typeof at(doc, f) !== "object"),
    ...NUMBER_FIELDS.filter((f) => typeof at(doc, f) !== "number"),
    ...(typeof at(doc, "plan.name") === "string" ? [] : ["plan.name"]),
  ];
  if (missing.length > 0) {
    throw new UsageError(
      `Cannot read "${source}": field "${
        missing[0]
      }" is missing or of the wrong type (give a file written by echokit load --json)`,
    );
  }
  const { schema: _s, schemaVersion: _v, echokit: _e, summary: _l, ...rest } =
    doc as LoadResultDocument;
  const { version: _old, ...result } = rest as LoadResult & { version?: number };
  result.intervals = Array.isArray(result.intervals) ? result.intervals : [];
  result.interrupted = result.interrupted === true;
  return result;
}
