/**
 * `echokit compare`: flags → {@linkcode runCompare} (or {@linkcode runMicro})
 * → the tables on stdout in the chosen format, optional report folder.
 * Progress goes to stderr, only on a TTY; warnings (skips, caps) always.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { resolvePlan, scalePlan } from "../loadgen/plan.ts";
import type { Plan } from "../loadgen/types.ts";
import { type EngineName, ENGINES } from "../loadgen/run.ts";
import { type CompareProgress, machineFacts, runCompare } from "../compare/run.ts";
import { runMicro } from "../compare/micro.ts";
import { parsePeers } from "../compare/peers.ts";
import { checkWorks, DEFAULT_COMPARE_MODES, modeColumns } from "../compare/variants.ts";
import { renderTable } from "../compare/render_table.ts";
import { renderMarkdown } from "../compare/render_markdown.ts";
import { renderCsv } from "../compare/render_csv.ts";
import { renderJson } from "../compare/render_json.ts";
import { formatClock } from "../compare/tables.ts";
import { writeReport } from "../compare/write_report.ts";
import { mergeReport, readLoadResultFile, readServerStatsFile } from "../compare/merge.ts";
import type { CompareReport } from "../compare/types.ts";
import { MODES, SERVER_ENGINES } from "../servers/types.ts";
import { parseThresholds, THRESHOLD_EXIT_CODE } from "../loadgen/thresholds.ts";
import {
  checkReportThresholds,
  formatReportThresholds,
  thresholdsFailed,
} from "../compare/thresholds.ts";
import { EXIT_CODES_HELP, signalExitCode } from "./exit_codes.ts";
import { progressWidth, redrawLine } from "./progress.ts";
import {
  checkOutputPath,
  type Command,
  numberFlag,
  oneOf,
  type OptionSpecs,
  parseFlags,
  parseList,
  parseNumber,
} from "./args.ts";

/** Loop scale of the default run: about four minutes for 4 modes × 2 plans on 2 cores. */
export const DEFAULT_SCALE = 0.5;
/** Loop scale of `--quick`: a smoke run of about half a minute. */
export const QUICK_SCALE = 0.02;

const FORMATS = ["table", "markdown", "json", "csv"] as const;

const HELP = `Usage: echokit compare [--mode LIST] [--plan LIST] [--peer SPEC]… [options]

Starts each server as its own process, runs each plan against it, stops it, and
prints the table: plan rows × server columns in JMeter's "summary =" figures, then
per plan the rate, p50/p99, errors, server CPU and memory, fairness and a ratio.

Defaults finish in about four minutes: every mode, plan1 and plan2 with their
loops scaled by ${DEFAULT_SCALE} (threads unchanged), one run per cell.

Servers:
  --mode LIST          modes to run, comma-separated (default: ${
  DEFAULT_COMPARE_MODES.join(",")
}; add uring by name)
  --peer SPEC          add an external server column; repeatable. SPEC is
                         name='command … {port}'  (run without a shell; {port} is
                                                   replaced by a free port)
                         py-streams, py-protocol, py-threaded, py-selectors, node-net
                                                  (shipped examples in fixtures/peers/)
                         python | shipped          (the four Python ones | all five)
  --baseline NAME      server whose rate is 1.00× (default: the fastest per plan)

Work models (see serve --help):
  --work LIST          work per message, one row per value, e.g. sleep:10ms,cpu:1ms
  --offload LIST       one column per mode and pool: none,threads,processes[:N]
                       (stream and protocol; other modes keep only "none")
  --processes LIST     one column per mode and server-process count, e.g. 1,2 (Linux)
  --engines LIST       stream and protocol modes: one column per engine, of loop,deno,node
                       (default: loop; deno is the stream-deno column, serve --engine
                       deno; node is the protocol-node column, serve --engine node)

Plans and size:
  --plan LIST          plan1, plan2, .json or .jmx files (default: plan1,plan2;
                       with --connections or --rate: plan2)
  --scale X            multiply each plan's loops by X (default: ${DEFAULT_SCALE})
  --engine E           load generator engine: auto (default), poll, uring or async
  --full               full-size plans (scale 1: plan1 = 1000 × 2000, plan2 = 100 × 20000)
  --quick              smoke run, scale ${QUICK_SCALE} (about 30 s)
  --repeat N           runs per cell, interleaved across servers; tables show medians
                       and ± spread (default: 1)
  --connections LIST   sweep connection counts, e.g. 10,100,1000,10000 (threads = N,
                       loops chosen so each level sends the same number of samples)
  --rate LIST          open-model sweep: total samples/s per level, e.g. 1000,5000

Memory guard (blocking mode, one Worker thread per connection):
  --thread-mb MB       memory one blocking thread costs (default: 8)
  --memory-policy P    cap (fewer threads, via --max-threads) or skip, when
                       threads × cost exceeds 60% of MemAvailable (default: cap)

Output:
  --format F           table, markdown, json or csv on stdout (default: table)
  --out DIR            also write report.md, results.json, results.csv, chart SVGs and
                       a self-contained report.html into DIR
  --micro              instead: one connection's round-trip latency per server
                       (tinybench mean, p99, ops/s, ± margin of error)
  --micro-time TIME    tinybench time per server, ms (default: 1000)
  --threshold EXPR     pass/fail on every run of every cell, repeatable (as load:
                       p99<5ms, err<0.1%, rate>1000/s); the output says which cells
                       failed, and a failed one exits 99
  -h, --help           show this help

Merge the results of several load hosts:  echokit compare merge --help

Ctrl-C (or SIGTERM) stops after the current run, reports what ran and exits
130 (143).

${EXIT_CODES_HELP}`;

/** The flags of `echokit compare`, as {@linkcode parseFlags} takes them. */
export const COMPARE_FLAGS: OptionSpecs = {
  mode: { type: "string" },
  plan: { type: "string" },
  peer: { type: "string", multiple: true },
  baseline: { type: "string" },
  scale: { type: "string" },
  engine: { type: "string" },
  full: { type: "boolean" },
  quick: { type: "boolean" },
  repeat: { type: "string" },
  connections: { type: "string" },
  rate: { type: "string" },
  "thread-mb": { type: "string" },
  "memory-policy": { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  micro: { type: "boolean" },
  "micro-time": { type: "string" },
  work: { type: "string" },
  offload: { type: "string" },
  processes: { type: "string" },
  engines: { type: "string" },
  threshold: { type: "string", multiple: true },
};

/** The `compare` subcommand. */
export const compareCommand: Command = {
  name: "compare",
  summary: "run modes × plans side by side and print the table",
  help: HELP,
  async run(args: string[]): Promise<number> {
    if (args[0] === "merge") return await runMerge(args.slice(1));
    const { values } = parseFlags(args, COMPARE_FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const sizeFlags = ["scale", "full", "quick"].filter((f) => values[f] !== undefined);
    if (sizeFlags.length > 1) {
      throw new UsageError(
        `Flags ${sizeFlags.map((f) => `--${f}`).join(" and ")} conflict (give one of them)`,
      );
    }
    const scale = values.full
      ? 1
      : values.quick
      ? QUICK_SCALE
      : numberFlag(values, "scale", { min: 0.0001, max: 1000, fraction: true }) ?? DEFAULT_SCALE;
    const format = oneOf("--format", String(values.format ?? "table"), FORMATS);
    const engine = values.engine === undefined || values.engine === "auto"
      ? undefined
      : oneOf("--engine", String(values.engine), ["auto", ...ENGINES]) as EngineName;
    const modes = values.mode === undefined
      ? [...DEFAULT_COMPARE_MODES]
      : parseList("--mode", String(values.mode)).map((m) => oneOf("--mode", m, MODES));
    const peers = parsePeers((values.peer as string[] | undefined) ?? []);
    const works = values.work === undefined
      ? undefined
      : checkWorks(parseList("--work", String(values.work)));
    const offloads = values.offload === undefined
      ? undefined
      : parseList("--offload", String(values.offload));
    const processes = values.processes === undefined
      ? undefined
      : parseList("--processes", String(values.processes)).map((n) =>
        parseNumber("--processes level", n, { min: 1, max: 256 })
      );
    const engines = values.engines === undefined
      ? undefined
      : parseList("--engines", String(values.engines)).map((e) =>
        oneOf("--engines", e, SERVER_ENGINES)
      );
    const columns = modeColumns(modes, { offloads, processes, engines }).columns;
    const names = [...columns.map((c) => c.name), ...peers.map((p) => p.name)];
    // parsePeers keeps peer names unique, so a repeat is a peer named like a mode column.
    const clash = names.find((n, i) => names.indexOf(n) !== i);
    if (clash !== undefined) {
      throw new UsageError(
        `The --peer name "${clash}" is taken by a mode's column (rename the peer)`,
      );
    }
    if (names.length === 0) throw new UsageError("No servers to compare (give --mode or --peer)");
    const baseline = values.baseline === undefined ? undefined : String(values.baseline);
    if (baseline !== undefined && !names.includes(baseline)) {
      throw new UsageError(`Unknown --baseline "${baseline}" (use one of ${names.join(", ")})`);
    }
    const connections = values.connections === undefined
      ? undefined
      : parseList("--connections", String(values.connections)).map((c) =>
        parseNumber("--connections level", c, { min: 1, max: 100_000 })
      );
    const rates = values.rate === undefined
      ? undefined
      : parseList("--rate", String(values.rate)).map((r) =>
        parseNumber("--rate level", r, { min: 0.001, max: 10_000_000, fraction: true })
      );
    const repeat = numberFlag(values, "repeat", { min: 1, max: 100 }) ?? 1;
    const threadMb = numberFlag(values, "thread-mb", { min: 0.01, max: 1024, fraction: true });
    const memoryPolicy = values["memory-policy"] === undefined
      ? undefined
      : oneOf("--memory-policy", String(values["memory-policy"]), ["cap", "skip"] as const);
    const out = values.out === undefined ? undefined : String(values.out);
    if (out !== undefined) checkOutputPath("--out", out, { folder: true });
    const tty = Deno.stderr.isTerminal();
    const command = `echokit compare${args.length ? " " + args.join(" ") : ""}`;

    const thresholds = parseThresholds(values.threshold as string[] | undefined);
    let stoppedBy: Deno.Signal | undefined;
    let report: CompareReport;
    if (values.micro) {
      const clash = [
        "plan",
        "connections",
        "rate",
        "repeat",
        "scale",
        "full",
        "quick",
        "work",
        "offload",
        "processes",
        "engines",
      ]
        .filter((f) => values[f] !== undefined);
      if (clash.length > 0) {
        throw new UsageError(
          `--micro measures one connection and takes no --${clash[0]} (drop one of them)`,
        );
      }
      const timeMs = numberFlag(values, "micro-time", { min: 10, max: 600_000 }) ?? 1000;
      const startedAt = Date.now();
      const micro = await runMicro({
        modes,
        peers,
        timeMs,
        onServer: (name) =>
          tty && Deno.stderr.writeSync(encode(redrawLine(`micro: ${name} …`, progressWidth()))),
      });
      if (tty) Deno.stderr.writeSync(encode("\r\x1b[K"));
      report = {
        meta: {
          tool: "echokit compare --micro",
          scale: 1,
          repeat: 1,
          startedAt,
          durationMs: Date.now() - startedAt,
          ...machineFacts(),
          command,
          notes: [],
        },
        scenarios: [],
        servers: names.map((n) => ({
          name: n,
          kind: (modes as string[]).includes(n) ? "mode" : "peer",
        })),
        cells: [],
        runs: [],
        micro,
      };
    } else {
      if (values["micro-time"] !== undefined) {
        throw new UsageError("--micro-time needs --micro (add --micro)");
      }
      const sweep = connections !== undefined || rates !== undefined;
      const specs = parseList("--plan", String(values.plan ?? (sweep ? "plan2" : "plan1,plan2")));
      const plans: Plan[] = [];
      for (const spec of specs) plans.push(scalePlan(await resolvePlan(spec, {}), scale));
      const notes: string[] = [];
      if (connections) {
        notes.push(
          "connection sweep: each level sends the same samples as the scaled plan (loops = total / connections)",
        );
      }
      const controller = new AbortController();
      let interrupts = 0;
      const signals: Deno.Signal[] = Deno.build.os === "windows"
        ? ["SIGINT"]
        : ["SIGINT", "SIGTERM"];
      const listeners = signals.map((sig) => () => {
        if (++interrupts > 1) Deno.exit(signalExitCode(sig));
        stoppedBy = sig;
        console.error("\nstopping after the current run (Ctrl-C again to quit now)");
        controller.abort();
      });
      signals.forEach((s, i) => Deno.addSignalListener(s, listeners[i]));
      try {
        report = await runCompare({
          engine,
          plans,
          modes,
          peers,
          repeat,
          connections,
          rates,
          works,
          offloads,
          processes,
          engines,
          baseline,
          scale,
          memoryPolicy,
          perThreadBytes: threadMb === undefined ? undefined : threadMb * 2 ** 20,
          signal: controller.signal,
          command,
          notes,
          onProgress: (e) => showProgress(e, tty),
        });
      } finally {
        signals.forEach((s, i) => Deno.removeSignalListener(s, listeners[i]));
        if (tty) Deno.stderr.writeSync(encode("\r\x1b[K"));
      }
    }

    report = checkReportThresholds(report, thresholds);
    await printReport(report, format, out);
    // Text formats carry the verdicts on stdout; json/csv stay parseable (json has them inside).
    const verdict = format === "table" || format === "markdown" ? console.log : console.error;
    for (const line of formatReportThresholds(report)) verdict(line);
    if (stoppedBy) return signalExitCode(stoppedBy);
    return thresholdsFailed(report) ? THRESHOLD_EXIT_CODE : 0;
  },
};

/** The report on stdout in `format`; every file of it in `out` when given. */
async function printReport(
  report: CompareReport,
  format: typeof FORMATS[number],
  out: string | undefined,
): Promise<void> {
  const text = format === "json"
    ? renderJson(report)
    : format === "csv"
    ? renderCsv(report)
    : format === "markdown"
    ? renderMarkdown(report)
    : renderTable(report);
  await Deno.stdout.write(encode(text));
  if (out !== undefined) {
    const files = await writeReport(report, out);
    console.error(`wrote ${files.join(", ")}`);
  }
}

/** Help text of `echokit compare merge`. */
export const MERGE_HELP: string =
  `Usage: echokit compare merge FILE.json… [--server-stats FILE] [options]

Combines "load --json" results from several load hosts that ran the same plan
against the same server at the same time into one table: a column per host and a
"merged" column. Samples and errors are summed, rate/s is the sum of the hosts'
rates, latency percentiles come from the hosts' merged histograms (exact, not
averaged), and the span is the union of the hosts' spans.

  --server-stats FILE  the server's own series ("serve --stats-interval S
                       --stats-json FILE" on the server's machine) for the
                       server CPU and memory columns
  --format F           table, markdown, json or csv on stdout (default: table)
  --out DIR            also write report.md, results.json, results.csv, charts
                       and report.html into DIR
  --partial            with "load --segment" files: merge even when segments are
                       missing or given twice (a warning says which); without it
                       that exits 1
  -h, --help           show this help

Segments ("load --segment I/N"): the files must be segments of one plan and one
--start-at; the notes give the start spread between them.

JTLs from several hosts: run each "load" with its own --jtl-thread-prefix and
concatenate with the header once:  { cat a.jtl; tail -n +2 b.jtl; } > all.jtl`;

/** The flags of `echokit compare merge`, as {@linkcode parseFlags} takes them. */
export const MERGE_FLAGS: OptionSpecs = {
  "server-stats": { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  partial: { type: "boolean" },
};

async function runMerge(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, MERGE_FLAGS, true);
  if (values.help) {
    console.log(MERGE_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("Nothing to merge (give the load --json files of each host)");
  }
  const format = oneOf("--format", String(values.format ?? "table"), FORMATS);
  const out = values.out === undefined ? undefined : String(values.out);
  if (out !== undefined) checkOutputPath("--out", out, { folder: true });
  // Flags first, like --format and --out, then the hosts' files.
  const statsFile = values["server-stats"];
  const serverStats = statsFile === undefined
    ? undefined
    : await readServerStatsFile(String(statsFile));
  const inputs = [];
  for (const file of positionals) inputs.push(await readLoadResultFile(file));
  const report = await mergeReport(inputs, {
    serverStats,
    partial: values.partial === true,
    command: `echokit compare merge ${args.join(" ")}`,
  });
  const partialNote = report.meta.notes?.find((n) => n.includes("partial merge:"));
  if (partialNote) console.error(`warning: ${partialNote.slice(partialNote.indexOf(":") + 2)}`);
  await printReport(report, format, out);
  return 0;
}

function showProgress(e: CompareProgress, tty: boolean): void {
  if (e.type === "warning") {
    if (tty) Deno.stderr.writeSync(encode("\r\x1b[K"));
    console.error(`warning: ${e.message}`);
    return;
  }
  if (!tty || e.type !== "run-start") return;
  const eta = e.etaMs === undefined ? "" : ` · ETA ~${formatClock(e.etaMs)}`;
  const rep = e.repeat > 0 ? ` · repeat ${e.repeat + 1}` : "";
  Deno.stderr.writeSync(
    encode(
      redrawLine(
        `[${e.index}/${e.total}] ${e.server} · ${e.scenario.label}${rep} · ` +
          `${formatClock(e.elapsedMs)} elapsed${eta}`,
        progressWidth(),
      ),
    ),
  );
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
