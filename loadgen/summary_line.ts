/**
 * One line of JMeter's summariser, byte for byte: `formatSummaryLine` writes a
 * `summary +` / `summary =` line as JMeter 5.x's `Summariser.format` does,
 * `formatResourceExtension` appends echokit's server and generator figures, and
 * `parseSummaryLine` reads either back. When the lines appear is the
 * summariser's business ({@link ./summariser.ts}).
 *
 * @example Usage
 * ```ts
 * import { formatSummaryLine, parseSummaryLine } from "./summary_line.ts";
 * const line = formatSummaryLine({
 *   type: "=", count: 10, elapsedMs: 2000, sumElapsedMs: 20, minMs: 1, maxMs: 3, errors: 0,
 * });
 * console.log(parseSummaryLine(line)?.count); // 10
 * ```
 *
 * @module
 */
import { formatHalfEven, truncDiv } from "./_decimal.ts";
import type { ResourceSample } from "./types.ts";

/** What Java prints for `Long.MAX_VALUE`: JMeter's `Min` when nothing was sampled. */
const JAVA_LONG_MAX = "9223372036854775807";
/** What Java prints for `Long.MIN_VALUE`: JMeter's `Max` when nothing was sampled. */
const JAVA_LONG_MIN = "-9223372036854775808";
const MIB = 1024 * 1024;

/** Thread counters as JMeter's `JMeterContextService.getThreadCounts()` reports them. */
export interface ThreadCounts {
  /** Started − finished. */
  active: number;
  /** Threads whose ramp-up delay has passed and that began sampling. */
  started: number;
  /** Threads that exited. */
  finished: number;
}

/** Server and generator resource use over one summary line's span. */
export interface ResourceUsage {
  /** The server's process tree; absent when it could not be sampled (printed `n/a`). */
  server?: ResourceSample;
  /** The generator process; absent when unknown (printed `n/a`). */
  generator?: ResourceSample;
}

/** The numbers one summary line is made of, as JMeter's `SummariserRunningSample` holds them. */
export interface SummaryLineInput {
  /** The summariser's name. @default {"summary"} */
  name?: string;
  /** `+` (delta since the previous report) or `=` (running total). */
  type: "+" | "=";
  /** Samples. */
  count: number;
  /** Milliseconds the samples span (JMeter's `endTime - startTime`). */
  elapsedMs: number;
  /** Sum of the samples' elapsed ms; `Avg` is this divided by `count`, truncated. */
  sumElapsedMs: number;
  /** Smallest elapsed ms (ignored when `count` is 0). */
  minMs: number;
  /** Largest elapsed ms (ignored when `count` is 0). */
  maxMs: number;
  /** Failed samples. */
  errors: number;
  /** Thread counters; required on `+` lines, ignored on `=` lines. */
  threads?: ThreadCounts;
  /**
   * Resource use to append after the JMeter part (see
   * {@linkcode formatResourceExtension}); no extension when absent.
   */
  resources?: ResourceUsage;
}

/** Java's `JOrphanUtils.rightAlign`: pad on the left, never truncate. */
function rightAlign(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}

/** JMeter's `JOrphanUtils.formatDuration`: `HH:MM:SS`, hours not wrapped at 24. */
function formatDuration(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const hours = Math.floor(seconds / 3600);
  return `${two(hours)}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
}

function formatMiB(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? "n/a" : `${(bytes / MIB).toFixed(1)}MiB`;
}

function formatCpu(percent: number | undefined): string {
  return percent === undefined || !Number.isFinite(percent) ? "n/a" : `${percent.toFixed(1)}%`;
}

/**
 * Formats echokit's resource extension, appended after the JMeter part of a
 * summary line. The format is stable so it can be grepped and parsed:
 *
 * ```
 *  | server CPU <c>% RSS <r>MiB VSZ <v>MiB | gen CPU <g>%
 * ```
 *
 * - `server CPU`: user+system CPU of the server's whole process tree over the
 *   line's span, % of one core (200.0% = two cores busy), one decimal.
 * - `RSS`/`VSZ`: resident and virtual size of that tree, always in MiB
 *   (2^20 bytes), one decimal, never auto-scaled.
 * - `gen CPU`: the load generator's own CPU, % of one core.
 * - Any figure that is not known prints as `n/a` (e.g. a remote server).
 *
 * @param usage The resource figures.
 * @returns The extension, starting with a space.
 *
 * @example Usage
 * ```ts
 * import { formatResourceExtension } from "./summary_line.ts";
 * const s = { time: 0, cpuPercent: 45.2, rssBytes: 35_756_442, vszBytes: 1_261_827_891 };
 * console.log(formatResourceExtension({ server: s }));
 * //  | server CPU 45.2% RSS 34.1MiB VSZ 1203.4MiB | gen CPU n/a
 * ```
 */
export function formatResourceExtension(usage: ResourceUsage): string {
  const { server, generator } = usage;
  return ` | server CPU ${formatCpu(server?.cpuPercent)} RSS ${formatMiB(server?.rssBytes)} VSZ ${
    formatMiB(server?.vszBytes)
  } | gen CPU ${formatCpu(generator?.cpuPercent)}`;
}

/**
 * Formats one summary line exactly as JMeter 5.x `Summariser.format` does:
 * count right-aligned to 6, `HH:MM:SS` of `(elapsedMs + 500) / 1000` seconds
 * (hours not wrapped), the rate as `#0.0` HALF_EVEN right-aligned to 6 (or
 * `******` when elapsed is 0), truncated `Avg`, `Min`/`Max`/`Err` right-aligned
 * to 5, the error share as `#0.00%` HALF_EVEN, and `Active/Started/Finished`
 * on `+` lines only. Unlike JMeter under a German locale, the decimal mark is
 * always `.`. With `resources` set, {@linkcode formatResourceExtension} is
 * appended.
 *
 * @param input The line's numbers.
 * @returns The line, without a newline.
 *
 * @example Usage
 * ```ts
 * import { formatSummaryLine } from "./summary_line.ts";
 * const line = formatSummaryLine({
 *   type: "+", count: 1234, elapsedMs: 5000, sumElapsedMs: 17276, minMs: 0, maxMs: 45,
 *   errors: 0, threads: { active: 100, started: 100, finished: 0 },
 * });
 * console.log(line);
 * // summary +   1234 in 00:00:05 =  246.8/s Avg:    14 Min:     0 Max:    45 Err:     0 (0.00%) Active: 100 Started: 100 Finished: 0
 * ```
 */
export function formatSummaryLine(input: SummaryLineInput): string {
  const { name = "summary", type, count, elapsedMs, sumElapsedMs, errors } = input;
  // JMeter's getElapsed() is 0 when nothing was sampled, whatever the clock says.
  const elapsed = count === 0 ? 0 : elapsedMs;
  const seconds = truncDiv(elapsed + 500, 1000);
  const rate = elapsed > 0 ? rightAlign(formatHalfEven(count / elapsed * 1000, 1), 6) : "******";
  const avg = count === 0 ? 0 : truncDiv(sumElapsedMs, count);
  const min = count === 0 ? JAVA_LONG_MAX : String(input.minMs);
  const max = count === 0 ? JAVA_LONG_MIN : String(input.maxMs);
  const errorShare = count === 0 ? 0 : errors / count;
  let line =
    `${name} ${type} ${rightAlign(String(count), 6)} in ${formatDuration(seconds)} = ${rate}` +
    `/s Avg: ${rightAlign(String(avg), 5)} Min: ${rightAlign(min, 5)} Max: ${rightAlign(max, 5)}` +
    ` Err: ${rightAlign(String(errors), 5)} (${formatHalfEven(errorShare * 100, 2)}%)`;
  if (type === "+") {
    const threads = input.threads;
    if (threads === undefined) throw new TypeError("A summary + line needs thread counts");
    line += ` Active: ${threads.active} Started: ${threads.started} Finished: ${threads.finished}`;
  }
  if (input.resources !== undefined) line += formatResourceExtension(input.resources);
  return line;
}

/** The fields printed on a summary line, as {@linkcode parseSummaryLine} reads them back. */
export interface ParsedSummaryLine {
  /** The summariser's name. */
  name: string;
  /** `+` or `=`. */
  type: "+" | "=";
  /** Samples. */
  count: number;
  /** Elapsed whole seconds (rounded by JMeter). */
  elapsedSeconds: number;
  /** The printed rate text (`"6614.5"` or `"******"`). */
  rate: string;
  /** `Avg` ms. */
  avgMs: number;
  /** `Min` ms. */
  minMs: number;
  /** `Max` ms. */
  maxMs: number;
  /** `Err`. */
  errors: number;
  /** The printed error share without `%` (`"2.54"`). */
  errorPercent: string;
  /** Thread counts (`+` lines only). */
  threads?: ThreadCounts;
}

const LINE =
  /^(\S+) ([+=]) +(\d+) in (\d{2,}):(\d{2}):(\d{2}) = +([\d.]+|\*{6})\/s Avg: +(\d+) Min: +(-?\d+) Max: +(-?\d+) Err: +(\d+) \(([\d.]+)%\)(?: Active: (\d+) Started: (\d+) Finished: (\d+))?/;

/**
 * Reads a JMeter summary line back into its printed fields, e.g. to import a
 * real JMeter run's output next to echokit's. Anything after the JMeter part
 * (such as the resource extension) is ignored.
 *
 * @param line One `summary +` or `summary =` line.
 * @returns The fields, or undefined when the line is not a summary line.
 *
 * @example Usage
 * ```ts
 * import { parseSummaryLine } from "./summary_line.ts";
 * const p = parseSummaryLine(
 *   "summary =  33307 in 00:00:10 = 3382.1/s Avg:   371 Min:     0 Max:  7271 Err:   846 (2.54%)",
 * );
 * console.log(p?.count); // 33307
 * ```
 */
export function parseSummaryLine(line: string): ParsedSummaryLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i]);
  const parsed: ParsedSummaryLine = {
    name: m[1],
    type: m[2] as "+" | "=",
    count: n(3),
    elapsedSeconds: n(4) * 3600 + n(5) * 60 + n(6),
    rate: m[7],
    avgMs: n(8),
    minMs: n(9),
    maxMs: n(10),
    errors: n(11),
    errorPercent: m[12],
  };
  if (m[13] !== undefined) parsed.threads = { active: n(13), started: n(14), finished: n(15) };
  return parsed;
}
