/**
 * `compare merge`: one table from several load hosts that ran the same plan
 * against the same server at the same time. Counts and errors are summed,
 * the rate is the sum of the hosts' rates, latency percentiles come from the
 * hosts' merged HdrHistograms (exact, not averaged), and the server's CPU and
 * memory come from its own `serve --stats-json` series, since no load host
 * can sample a process on another machine.
 *
 * The result is an ordinary {@linkcode CompareReport} (a column per host and
 * one for the merged figures), so every compare renderer draws it.
 *
 * @example Usage
 * ```ts ignore
 * import { mergeReport, readLoadResultFile, readServerStatsFile } from "./merge.ts";
 * import { renderTable } from "./render_table.ts";
 * const report = await mergeReport(
 *   [await readLoadResultFile("hostA.json"), await readLoadResultFile("hostB.json")],
 *   { serverStats: await readServerStatsFile("serve.json") },
 * );
 * console.log(renderTable(report));
 * ```
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { fileErrorReason } from "../util/atomic_write.ts";
import { histogramFigures, loadLatencyHistogram } from "../loadgen/histogram.ts";
import { parseJsonDocument } from "../loadgen/report.ts";
import { formatSummaryLine } from "../loadgen/summary_line.ts";
import type { ErrorKind, LoadResult, Plan, ResourceSummary } from "../loadgen/types.ts";
import type { ServerStatsSeries } from "../servers/stats_interval.ts";
import { aggregate } from "./aggregate.ts";
import { machineFacts } from "./run.ts";
import { checkSamePlans, checkSegments, iso } from "./_merge_checks.ts";
import type {
  CompareReport,
  LoadInput,
  RunRecord,
  Scenario,
  SegmentCheck,
  ServerColumn,
} from "./types.ts";

/** The column of the merged figures. */
export const MERGED_COLUMN = "merged";

/** A server's own series (`serve --stats-json`) and where it came from. */
export interface ServerStatsInput {
  /** The file it was read from, for messages. */
  source: string;
  /** The series. */
  series: ServerStatsSeries;
}

/** The merged result and what a reader must know about how it was made. */
export interface MergedLoad {
  /** Every host's figures combined. */
  result: LoadResult;
  /** How each figure was combined, and anything doubtful (no overlap, approximations). */
  notes: string[];
  /** Set when the inputs are segments of one plan. */
  segments?: SegmentCheck;
}

/** Options for {@linkcode mergeLoadResults} and {@linkcode mergeReport}. */
export interface MergeOptions {
  /** The server's own series, for the server CPU and memory columns. */
  serverStats?: ServerStatsInput;
  /** The command line, for the report header. */
  command?: string;
  /**
   * Merge segments even when some are missing or duplicated (a note says
   * which); else that is an error. @default {false}
   */
  partial?: boolean;
}

/**
 * Reads one `load --json` file.
 *
 * @param path The file.
 * @returns The host's result, labelled with the file's base name.
 * @throws {UsageError} Naming the file, when it cannot be read or is not a
 * load-result document.
 *
 * @example Usage
 * ```ts ignore
 * import { readLoadResultFile } from "./merge.ts";
 * const input = await readLoadResultFile("out/hostA.json");
 * console.log(input.label); // hostA
 * ```
 */
export async function readLoadResultFile(path: string): Promise<LoadInput> {
  const text = await readText(path, "load result");
  const base = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  return {
    label: base.replace(/\.json$/i, "") || base,
    source: path,
    result: parseJsonDocument(text, path),
  };
}

/**
 * Reads one `serve --stats-json` file.
 *
 * @param path The file.
 * @returns The series.
 * @throws {UsageError} Naming the file, when it cannot be read or is not such a series.
 *
 * @example Usage
 * ```ts ignore
 * import { readServerStatsFile } from "./merge.ts";
 * const stats = await readServerStatsFile("serve.json");
 * console.log(stats.series.samples.length);
 * ```
 */
export async function readServerStatsFile(path: string): Promise<ServerStatsInput> {
  const text = await readText(path, "--server-stats");
  let doc: Partial<ServerStatsSeries>;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `Cannot read --server-stats "${path}": not JSON (${
        err instanceof Error ? err.message : err
      })`,
    );
  }
  const samplesOk = Array.isArray(doc?.samples) &&
    doc.samples.every((s) =>
      ["time", "elapsedMs", "cpuPercent", "rssBytes"].every((k) =>
        typeof (s as unknown as Record<string, unknown>)?.[k] === "number"
      )
    );
  // Files from before the one tag scheme carry only "version": 1.
  const legacy = doc as unknown as { version?: number } | undefined;
  const versionOk = doc?.schema === "echokit/serve-stats"
    ? doc.schemaVersion === 1
    : legacy?.version === 1;
  if (!versionOk || !samplesOk) {
    throw new UsageError(
      `Cannot read --server-stats "${path}": not a series written by serve --stats-json (give the file of serve --stats-interval S --stats-json FILE)`,
    );
  }
  return { source: path, series: doc as ServerStatsSeries };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new UsageError(`Cannot read ${what} "${path}": ${fileErrorReason(err)}`);
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Combines several load hosts' results into one: samples, errors and errors
 * by kind summed; rate = the sum of the hosts' rates; latency percentiles
 * from the merged histograms; min/max over all; the span is the union of the
 * hosts' spans. The server's resources come from `serverStats` when given,
 * else from a host that sampled the server itself (`load --pid`).
 *
 * @param inputs The hosts' results (at least one).
 * @param options The server's own series.
 * @returns The merged result and notes on how it was made.
 * @throws {UsageError} Naming the file, when the plans differ or a result
 * has no latency histogram; when the server series does not overlap the run.
 *
 * @example Usage
 * ```ts ignore
 * import { mergeLoadResults, readLoadResultFile } from "./merge.ts";
 * const merged = await mergeLoadResults([
 *   await readLoadResultFile("hostA.json"),
 *   await readLoadResultFile("hostB.json"),
 * ]);
 * console.log(merged.result.samples, merged.result.latency.p99Us);
 * ```
 */
export async function mergeLoadResults(
  inputs: readonly LoadInput[],
  options: MergeOptions = {},
): Promise<MergedLoad> {
  if (inputs.length === 0) throw new UsageError("Nothing to merge (give load --json files)");
  const notes: string[] = [];
  const segments = checkSegments(inputs, options.partial ?? false, notes);
  checkSamePlans(inputs, segments !== undefined);
  const results = inputs.map((i) => i.result);

  const LatencyHistogram = await loadLatencyHistogram();
  const histogram = new LatencyHistogram();
  for (const { result, source } of inputs) {
    if (result.latency.histogram === undefined) {
      throw new UsageError(
        `"${source}" has no latency histogram, so percentiles cannot be merged exactly (write it again with this echokit's load --json)`,
      );
    }
    try {
      histogram.merge(LatencyHistogram.decode(result.latency.histogram));
    } catch {
      throw new UsageError(`"${source}" has a latency histogram that cannot be decoded`);
    }
  }

  const samples = sum(results.map((r) => r.samples));
  const measured = results.filter((r) => r.latency.count > 0);
  const latencyCount = sum(results.map((r) => r.latency.count));
  const exactAvg = results.every((r) => r.latency.sumElapsedMs !== undefined);
  // JMeter's Avg is the truncated mean of whole-ms elapsed times; the hosts'
  // sums give it exactly, their truncated Avgs only approximately.
  const sumElapsedMs = exactAvg
    ? sum(results.map((r) => r.latency.sumElapsedMs!))
    : sum(results.map((r) => r.latency.avgMs * r.latency.count));
  if (!exactAvg) notes.push("Avg approximated from the hosts' truncated Avg (older documents)");

  const errorsByKind: Partial<Record<ErrorKind, number>> = {};
  for (const r of results) {
    for (const [kind, n] of Object.entries(r.errorsByKind) as [ErrorKind, number][]) {
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + n;
    }
  }

  const startTime = Math.min(...results.map((r) => r.startTime));
  const endTime = Math.max(...results.map((r) => r.endTime));
  const lastStart = Math.max(...results.map((r) => r.startTime));
  const firstEnd = Math.min(...results.map((r) => r.endTime));
  if (inputs.length > 1 && lastStart >= firstEnd) {
    notes.push(
      "the hosts' runs do not overlap in time: summing their rates assumes they ran together (check the hosts' clocks)",
    );
  }
  const plan: Plan = { ...results[0].plan, threads: sum(results.map((r) => r.plan.threads)) };
  const mode = results.every((r) => r.target.mode === results[0].target.mode)
    ? results[0].target.mode
    : undefined;

  const result: LoadResult = {
    plan,
    target: { hostname: results[0].target.hostname, port: results[0].target.port, mode },
    startTime,
    endTime,
    samples,
    errors: sum(results.map((r) => r.errors)),
    errorsByKind,
    rate: sum(results.map((r) => r.rate)),
    latency: {
      count: latencyCount,
      avgMs: latencyCount > 0 ? Math.trunc(sumElapsedMs / latencyCount) : 0,
      minMs: measured.length > 0 ? Math.min(...measured.map((r) => r.latency.minMs)) : 0,
      maxMs: measured.length > 0 ? Math.max(...measured.map((r) => r.latency.maxMs)) : 0,
      ...histogramFigures(histogram),
      sumElapsedMs,
    },
    // The documents carry each host's spread, not every connection's count:
    // min and max over all connections are exact, the percentiles are not known.
    fairness: {
      min: Math.min(...results.map((r) => r.fairness.min)),
      p5: NaN,
      median: NaN,
      p95: NaN,
      max: Math.max(...results.map((r) => r.fairness.max)),
      window: results.every((r) => r.fairness.window === "steady") ? "steady" : "run",
    },
    generator: mergeGenerators(results, samples),
    intervals: [],
    interrupted: results.some((r) => r.interrupted),
  };
  if (results.every((r) => r.warmup)) {
    result.warmup = {
      seconds: Math.max(...results.map((r) => r.warmup!.seconds)),
      samples: sum(results.map((r) => r.warmup!.samples)),
      errors: sum(results.map((r) => r.warmup!.errors)),
    };
  }
  if (results.every((r) => r.openModel)) {
    result.openModel = {
      requestedRate: sum(results.map((r) => r.openModel!.requestedRate)),
      achievedRate: sum(results.map((r) => r.openModel!.achievedRate)),
    };
  }

  if (options.serverStats) {
    const { summary, note } = serverFromSeries(options.serverStats, result);
    result.server = summary;
    notes.push(note);
  } else {
    const sampled = inputs.find((i) => i.result.server);
    if (sampled) {
      result.server = sampled.result.server;
      notes.push(`server CPU/RSS as "${sampled.source}" sampled it (load --pid)`);
    } else {
      notes.push("server CPU/RSS not known (add --server-stats FILE from serve --stats-json)");
    }
  }
  if (result.interrupted) notes.push("at least one host's run was interrupted");
  return segments ? { result, notes, segments } : { result, notes };
}

/** The generators ran on separate machines: their CPU adds up, as do their peaks. */
function mergeGenerators(results: readonly LoadResult[], samples: number): ResourceSummary {
  const cpuUs = sum(results.map((r) => r.generator.cpuUsPerSample * r.samples));
  return {
    cpuPercentMean: sum(results.map((r) => r.generator.cpuPercentMean)),
    cpuUsPerSample: samples > 0 ? cpuUs / samples : 0,
    peakRssBytes: sum(results.map((r) => r.generator.peakRssBytes)),
    peakVszBytes: sum(results.map((r) => r.generator.peakVszBytes)),
    series: [],
  };
}

/**
 * The server's resources over the load's span from its own series: each
 * interval counts by how much of it falls inside the span.
 */
function serverFromSeries(
  input: ServerStatsInput,
  load: LoadResult,
): { summary: ResourceSummary; note: string } {
  const { series, source } = input;
  const spanMs = load.endTime - load.startTime;
  let cpuMs = 0;
  let coveredMs = 0;
  let peakRss = 0;
  let peakVsz = 0;
  const inside = [];
  for (const s of series.samples) {
    const from = Math.max(s.time - s.elapsedMs, load.startTime);
    const to = Math.min(s.time, load.endTime);
    if (to <= from) continue;
    const overlap = to - from;
    cpuMs += s.cpuPercent / 100 * overlap;
    coveredMs += overlap;
    peakRss = Math.max(peakRss, s.rssBytes);
    peakVsz = Math.max(peakVsz, s.vszBytes ?? NaN);
    inside.push({
      time: s.time,
      cpuPercent: s.cpuPercent,
      rssBytes: s.rssBytes,
      vszBytes: s.vszBytes ?? NaN,
    });
  }
  if (coveredMs === 0) {
    throw new UsageError(
      `The --server-stats series "${source}" covers ${iso(series.startTime)} to ${
        iso(series.endTime)
      }, the load ran ${iso(load.startTime)} to ${
        iso(load.endTime)
      } (give the series of the serve run that took this load; the hosts' clocks must agree)`,
    );
  }
  const share = spanMs > 0 ? coveredMs / spanMs : 1;
  // Samples in the covered part, assuming an even rate over the span.
  const coveredSamples = load.samples * Math.min(1, share);
  const where = `${series.hostname ?? "?"} pid ${series.pid ?? "?"}`;
  return {
    summary: {
      cpuPercentMean: cpuMs / coveredMs * 100,
      cpuUsPerSample: coveredSamples > 0 ? cpuMs * 1000 / coveredSamples : 0,
      peakRssBytes: peakRss,
      peakVszBytes: peakVsz,
      series: inside,
    },
    note:
      `server CPU/RSS from "${source}" (${where}, ${inside.length} intervals of ${
        series.intervalMs / 1000
      } s` + (share < 0.99 ? `, covering ${(share * 100).toFixed(0)}% of the load's span)` : ")"),
  };
}

/**
 * Builds the comparison report of a merge: one scenario (the plan), a column
 * per host and a `merged` column whose ratio is 1.00×, so each host's ratio
 * is its share of the total.
 *
 * @param inputs The hosts' results.
 * @param options The server's own series; the command line.
 * @returns The report every compare renderer reads.
 * @throws {UsageError} As {@linkcode mergeLoadResults}.
 *
 * @example Usage
 * ```ts ignore
 * import { mergeReport, readLoadResultFile } from "./merge.ts";
 * import { renderMarkdown } from "./render_markdown.ts";
 * const report = await mergeReport([await readLoadResultFile("a.json"), await readLoadResultFile("b.json")]);
 * console.log(renderMarkdown(report));
 * ```
 */
export async function mergeReport(
  inputs: readonly LoadInput[],
  options: MergeOptions = {},
): Promise<CompareReport> {
  const merged = await mergeLoadResults(inputs, options);
  const { result } = merged;
  const labels = uniqueLabels([...inputs.map((i) => i.label), MERGED_COLUMN]);
  const mergedName = labels[labels.length - 1];
  const scenario: Scenario = {
    id: result.plan.name,
    plan: result.plan.name,
    connections: result.plan.threads,
    loops: result.plan.loops,
    label: `${result.plan.name} · ${inputs.length} host${inputs.length === 1 ? "" : "s"}`,
  };
  const servers: ServerColumn[] = labels.map((name) => ({ name, kind: "peer" }));
  const runs: RunRecord[] = [
    ...inputs.map((input, i): RunRecord => ({
      server: labels[i],
      scenario: scenario.id,
      repeat: 0,
      result: input.result,
      note: `${input.source}: ${input.result.plan.threads} connections from ${
        iso(input.result.startTime)
      } to ${iso(input.result.endTime)}`,
      wallMs: input.result.endTime - input.result.startTime,
    })),
    {
      server: mergedName,
      scenario: scenario.id,
      repeat: 0,
      result,
      wallMs: result.endTime - result.startTime,
    },
  ];
  const summary = formatSummaryLine({
    type: "=",
    count: result.samples,
    elapsedMs: result.endTime - result.startTime,
    sumElapsedMs: result.latency.sumElapsedMs ?? result.latency.avgMs * result.samples,
    minMs: result.latency.minMs,
    maxMs: result.latency.maxMs,
    errors: result.errors,
  });
  return {
    meta: {
      tool: "echokit compare merge",
      scale: 1,
      repeat: 1,
      baseline: mergedName,
      startedAt: result.startTime,
      durationMs: result.endTime - result.startTime,
      ...machineFacts(),
      command: options.command,
      notes: [
        `${mergedName}: ${summary.trim()} (all hosts; elapsed = the union of their spans)`,
        `${mergedName}: rate/s = the sum of the hosts' rates; percentiles from their merged histograms; ` +
        `vs ${mergedName} = each host's share`,
        ...merged.notes.map((n) => `${mergedName}: ${n}`),
        "machine: the computer that ran the merge, not the load hosts",
      ],
    },
    scenarios: [scenario],
    servers,
    cells: aggregate(runs, { scenarios: [scenario], servers }, { baseline: mergedName }),
    runs,
  };
}

function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label}#${n}`;
  });
}
