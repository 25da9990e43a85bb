/**
 * Segments without a cluster: what the Kubernetes Indexed Job in
 * `deploy/k8s/` does, on one machine. One server process; N `load --segment
 * i/N --start-at T --json --jtl` processes against it at once; their files
 * merged (`compare merge`'s code); then one process running the whole plan
 * against the same server; then the two compared.
 *
 * What "equal" means here, and why:
 * - samples, errors and the count of every thread: exactly equal (a
 *   loop-bound plan fixes them; any difference is a lost or doubled thread);
 * - thread names: the same set, and no name in two segments' JTLs;
 * - the per-second series (samples per second since the start): the same
 *   total, and each thread's samples fall in the same number of seconds
 *   is NOT required: how many samples land in which second depends on how
 *   fast the server answered N processes versus one, which is the thing being
 *   measured, not the thing being checked. So the series are printed side by
 *   side and checked by total only; the schedule itself is checked by each
 *   thread's first sample against its planned start (thread k at k·rampUp/threads).
 * - start spread: per segment, how late its first sample was against its
 *   thread's planned start; spread = latest − earliest. Must stay under
 *   `maxSpreadMs` (50 ms). The segments' own start records (`startedAt`,
 *   when each handed its threads to the engines) give a second figure.
 *
 * Run: `deno task segments [--segments 4] [--plan plan2] [--loops 200]
 * [--mode stream] [--lead 10s] [--keep DIR]`.
 *
 * @module
 */
import { join } from "node:path";
import { type Command, numberFlag, oneOf, type OptionSpecs, parseFlags } from "../cli/args.ts";
import { parseDuration } from "../util/units.ts";
import { EchokitError, UsageError } from "../util/errors.ts";
import { alignRows } from "../util/text_table.ts";
import { echokitArgv, startServerProcess } from "../servers/child.ts";
import { type Mode, MODES } from "../servers/types.ts";
import { resolvePlan } from "../loadgen/plan.ts";
import { splitJtlRow } from "../loadgen/jtl.ts";
import { mergeLoadResults, readLoadResultFile } from "../compare/merge.ts";
import type { SegmentCheck } from "../compare/types.ts";
import type { LoadResult } from "../loadgen/types.ts";

/** Options for {@linkcode runSegmentsCheck}. */
export interface SegmentsCheckOptions {
  /** Segments (load processes). @default {4} */
  segments?: number;
  /** Plan name or file. @default {"plan2"} */
  plan?: string;
  /** Loops per thread (shortens the plan). @default {200} */
  loops?: number;
  /** Server mode. @default {"stream"} */
  mode?: Mode;
  /** Time from launching the segment processes to `--start-at`, ms. @default {10000} */
  leadMs?: number;
  /** Keep the files in this folder instead of a temporary one. */
  keep?: string;
  /** Largest allowed start spread, ms. @default {50} */
  maxSpreadMs?: number;
  /** Extra `load` flags for every run (`--engine async`). */
  loadArgs?: string[];
}

/** One segment's start, as measured. */
export interface SegmentStart {
  /** Segment number. */
  index: number;
  /** First sample's start − its thread's planned start, ms. */
  firstSampleLateMs: number;
  /** `startedAt` − `--start-at`, ms (the segment's own record). */
  startedLateMs: number;
}

/** What {@linkcode runSegmentsCheck} found. */
export interface SegmentsCheck {
  /** The merge's check of the segment files. */
  segments: SegmentCheck;
  /** The merged segments. */
  merged: LoadResult;
  /** The one process that ran the whole plan. */
  whole: LoadResult;
  /** Threads seen in the merged JTLs. */
  threads: number;
  /** Thread names found in more than one segment's JTL. */
  duplicateThreads: string[];
  /** Threads whose sample count differs between merged and whole (name: merged/whole). */
  countMismatches: string[];
  /** Samples per second since the start, merged segments. */
  mergedSeries: number[];
  /** Samples per second since the start, the whole run. */
  wholeSeries: number[];
  /** Each segment's start. */
  starts: SegmentStart[];
  /** Spread of the segments' first-sample lateness, ms. */
  startSpreadMs: number;
  /** Spread of the segments' `startedAt` records, ms. */
  recordSpreadMs: number;
  /** What failed; empty when every check passed. */
  failures: string[];
}

interface JtlFacts {
  counts: Map<string, number>;
  /** Start of each thread's first sample, epoch ms. */
  firstStart: Map<string, number>;
  stamps: number[];
}

async function readJtl(path: string): Promise<JtlFacts> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  const header = splitJtlRow(lines[0]);
  const ts = header.indexOf("timeStamp");
  const name = header.indexOf("threadName");
  const facts: JtlFacts = { counts: new Map(), firstStart: new Map(), stamps: [] };
  for (const line of lines.slice(1)) {
    const row = splitJtlRow(line);
    const thread = row[name];
    const stamp = Number(row[ts]);
    facts.counts.set(thread, (facts.counts.get(thread) ?? 0) + 1);
    facts.firstStart.set(thread, Math.min(facts.firstStart.get(thread) ?? Infinity, stamp));
    facts.stamps.push(stamp);
  }
  return facts;
}

function perSecond(stamps: readonly number[], from: number): number[] {
  const out: number[] = [];
  for (const s of stamps) {
    const k = Math.max(0, Math.floor((s - from) / 1000));
    while (out.length <= k) out.push(0);
    out[k]++;
  }
  return out;
}

async function echokit(args: string[]): Promise<{ code: number; stderr: string }> {
  const [cmd, ...rest] = echokitArgv(args);
  const out = await new Deno.Command(cmd, { args: rest, stdin: "null", stdout: "null" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * Runs N local segments and the whole plan against one server and compares them.
 *
 * @param options Segments, plan, loops, server mode.
 * @returns What was measured and which checks failed.
 * @throws {EchokitError} When a load process fails.
 *
 * @example Usage
 * ```ts ignore
 * import { runSegmentsCheck } from "./segments.ts";
 * const check = await runSegmentsCheck({ segments: 4, plan: "plan2", loops: 50 });
 * console.log(check.failures.length === 0, check.startSpreadMs);
 * ```
 */
export async function runSegmentsCheck(options: SegmentsCheckOptions = {}): Promise<SegmentsCheck> {
  const n = options.segments ?? 4;
  const planName = options.plan ?? "plan2";
  const loops = options.loops ?? 200;
  const plan = await resolvePlan(planName, { loops });
  const maxSpreadMs = options.maxSpreadMs ?? 50;
  const dir = options.keep ?? await Deno.makeTempDir({ prefix: "echokit-segments-" });
  if (options.keep) await Deno.mkdir(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const server = await startServerProcess({ mode: options.mode ?? "stream" });
  const base = [
    "load",
    "--plan",
    planName,
    "--loops",
    String(loops),
    "--port",
    String(server.addr.port),
    ...(options.loadArgs ?? []),
  ];
  const startAt = Date.now() + (options.leadMs ?? 10_000);
  try {
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        echokit([
          ...base,
          "--segment",
          `${i}/${n}`,
          "--start-at",
          String(startAt),
          "--json",
          file(`segment-${i}.json`),
          "--jtl",
          file(`segment-${i}.jtl`),
        ])),
    );
    runs.forEach((r, i) => {
      if (r.code !== 0) {
        throw new EchokitError(`Segment ${i}/${n} exited ${r.code}: ${r.stderr.trim()}`);
      }
    });
    const whole = await echokit([
      ...base,
      "--json",
      file("whole.json"),
      "--jtl",
      file("whole.jtl"),
    ]);
    if (whole.code !== 0) {
      throw new EchokitError(`The whole-plan run exited ${whole.code}: ${whole.stderr.trim()}`);
    }
  } finally {
    await server.stop();
  }

  const inputs = [];
  for (let i = 0; i < n; i++) inputs.push(await readLoadResultFile(file(`segment-${i}.json`)));
  const merged = await mergeLoadResults(inputs);
  const wholeResult = (await readLoadResultFile(file("whole.json"))).result;
  const wholeJtl = await readJtl(file("whole.jtl"));

  const failures: string[] = [];
  const owner = new Map<string, number>();
  const duplicateThreads: string[] = [];
  const mergedCounts = new Map<string, number>();
  const mergedStamps: number[] = [];
  const starts: SegmentStart[] = [];
  const step = plan.rampUp * 1000 / plan.threads;
  for (let i = 0; i < n; i++) {
    const jtl = await readJtl(file(`segment-${i}.jtl`));
    let late = Infinity;
    for (const [thread, count] of jtl.counts) {
      if (owner.has(thread)) duplicateThreads.push(thread);
      owner.set(thread, i);
      mergedCounts.set(thread, (mergedCounts.get(thread) ?? 0) + count);
      // "Thread Group 1-<k+1>": thread k was planned to start at startAt + k·step.
      const k = Number(thread.slice(thread.lastIndexOf("-") + 1)) - 1;
      late = Math.min(late, jtl.firstStart.get(thread)! - (startAt + k * step));
    }
    mergedStamps.push(...jtl.stamps);
    const record = inputs[i].result.segment!;
    starts.push({ index: i, firstSampleLateMs: late, startedLateMs: record.startedAt - startAt });
  }
  const countMismatches: string[] = [];
  for (const name of new Set([...mergedCounts.keys(), ...wholeJtl.counts.keys()])) {
    const a = mergedCounts.get(name) ?? 0;
    const b = wholeJtl.counts.get(name) ?? 0;
    if (a !== b) countMismatches.push(`${name}: ${a}/${b}`);
  }
  const lates = starts.map((s) => s.firstSampleLateMs);
  const startSpreadMs = Math.max(...lates) - Math.min(...lates);
  const recordSpreadMs = merged.segments!.startSpreadMs;
  const mergedSeries = perSecond(mergedStamps, startAt);
  const wholeSeries = perSecond(wholeJtl.stamps, wholeResult.startTime);
  const expected = plan.threads * plan.loops;

  if (merged.result.samples !== expected || wholeResult.samples !== expected) {
    failures.push(
      `samples: merged ${merged.result.samples}, whole ${wholeResult.samples}, plan ${expected}`,
    );
  }
  if (merged.result.errors !== wholeResult.errors) {
    failures.push(`errors: merged ${merged.result.errors}, whole ${wholeResult.errors}`);
  }
  if (merged.result.plan.threads !== plan.threads || mergedCounts.size !== plan.threads) {
    failures.push(
      `threads: merged ${merged.result.plan.threads} (JTL ${mergedCounts.size}), plan ${plan.threads}`,
    );
  }
  if (duplicateThreads.length > 0) failures.push(`duplicate threads: ${duplicateThreads[0]}…`);
  if (countMismatches.length > 0) failures.push(`per-thread counts: ${countMismatches[0]}…`);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  if (sum(mergedSeries) !== sum(wholeSeries)) {
    failures.push(`per-second totals: merged ${sum(mergedSeries)}, whole ${sum(wholeSeries)}`);
  }
  if (!(startSpreadMs < maxSpreadMs)) {
    failures.push(`start spread ${startSpreadMs.toFixed(1)} ms (at most ${maxSpreadMs} ms)`);
  }
  if (!options.keep) await Deno.remove(dir, { recursive: true });
  return {
    segments: merged.segments!,
    merged: merged.result,
    whole: wholeResult,
    threads: mergedCounts.size,
    duplicateThreads,
    countMismatches,
    mergedSeries,
    wholeSeries,
    starts,
    startSpreadMs,
    recordSpreadMs,
    failures,
  };
}

/**
 * The check as text: the figures side by side, the series, the starts, the verdict.
 *
 * @param check What {@linkcode runSegmentsCheck} found.
 * @returns Lines to print.
 */
export function formatSegmentsCheck(check: SegmentsCheck): string {
  const { merged, whole } = check;
  const rows = [
    ["", `merged ${check.segments.count} segments`, "whole plan, 1 process"],
    ["samples", String(merged.samples), String(whole.samples)],
    ["errors", String(merged.errors), String(whole.errors)],
    ["threads", String(check.threads), String(whole.plan.threads)],
    ["duplicate thread names", String(check.duplicateThreads.length), "-"],
    ["threads with other counts", String(check.countMismatches.length), "-"],
    ["rate/s", merged.rate.toFixed(0), whole.rate.toFixed(0)],
    ["p99 µs", String(merged.latency.p99Us), String(whole.latency.p99Us)],
  ];
  const starts = check.starts.map((s) =>
    `  segment ${s.index}: first sample ${s.firstSampleLateMs.toFixed(1)} ms after its plan, ` +
    `threads handed over ${s.startedLateMs} ms after --start-at`
  );
  return [
    ...alignRows(rows, (i) => i === 0 ? "l" : "r").lines,
    `per-second series, merged: ${check.mergedSeries.join(" ")}`,
    `per-second series, whole:  ${check.wholeSeries.join(" ")}`,
    "",
    ...starts,
    `start spread: ${
      check.startSpreadMs.toFixed(1)
    } ms (first samples), ${check.recordSpreadMs} ms (start records)`,
    check.failures.length === 0 ? "ok: the merged segments are the whole plan" : "FAILED:",
    ...check.failures.map((f) => `  ${f}`),
  ].join("\n");
}

const HELP = `Usage: deno task segments [--segments N] [--plan P] [--loops L] [options]

Runs N local "load --segment i/N --start-at T" processes against one server,
merges them and checks they equal one process running the whole plan against
the same server: samples, threads, per-thread counts, no duplicate thread names,
per-second totals, start spread under 50 ms.

  --segments N   load processes (default: 4)
  --plan P       plan name or file (default: plan2)
  --loops L      loops per thread, to shorten the plan (default: 200)
  --mode M       server mode (default: stream; ${MODES.join(", ")})
  --lead TIME    from launching the segments to --start-at (default: 10s)
  --engine E     load engine (poll or async; default: load's)
  --keep DIR     keep the JSON and JTL files in DIR
  -h, --help     show this help`;

const FLAGS: OptionSpecs = {
  segments: { type: "string" },
  plan: { type: "string" },
  loops: { type: "string" },
  mode: { type: "string" },
  lead: { type: "string" },
  engine: { type: "string" },
  keep: { type: "string" },
};

/** `deno task segments`. */
export const segmentsCommand: Command = {
  name: "segments",
  summary: "run N local plan segments, merge them, compare with the whole plan",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const check = await runSegmentsCheck({
      segments: numberFlag(values, "segments", { min: 1, max: 64 }),
      plan: values.plan === undefined ? undefined : String(values.plan),
      loops: numberFlag(values, "loops", { min: 1, max: 1_000_000 }),
      mode: values.mode === undefined ? undefined : oneOf("--mode", String(values.mode), MODES),
      leadMs: values.lead === undefined ? undefined : parseDuration("--lead", String(values.lead)),
      keep: values.keep === undefined ? undefined : String(values.keep),
      loadArgs: values.engine === undefined ? [] : ["--engine", String(values.engine)],
    });
    console.log(formatSegmentsCheck(check));
    return check.failures.length === 0 ? 0 : 1;
  },
};

if (import.meta.main) {
  try {
    Deno.exit(await segmentsCommand.run(Deno.args));
  } catch (err) {
    if (err instanceof UsageError || err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      Deno.exit(err.exitCode);
    }
    throw err;
  }
}
