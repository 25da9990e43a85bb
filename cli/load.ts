/**
 * `echokit load`: flags → {@linkcode runLoad} → JMeter summary lines on
 * stdout as they come, the final table, optional JSON/JTL. Live progress goes
 * to stderr, only on a TTY. Ctrl-C stops gracefully; a second Ctrl-C exits.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import type { EngineName } from "../loadgen/_engine_types.ts";
import {
  MAX_RAMP_UP_S,
  PLAN_OPTIONS,
  PLAN_OPTIONS_HELP,
  planOverridesFromFlags,
  resolvePlan,
} from "../loadgen/plan.ts";
import { ENGINES, type LoadProgress, runLoad } from "../loadgen/run.ts";
import type { LoadResult } from "../loadgen/types.ts";
import { procAvailable } from "../loadgen/resource_monitor.ts";
import { readProcStat } from "../servers/proc_stats.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { formatJsonDocument, formatReport } from "../loadgen/report.ts";
import { jtlThreadGroupName } from "../loadgen/jtl.ts";
import { parseSegment, parseStartAt } from "../loadgen/segment.ts";
import { MODES } from "../servers/types.ts";
import {
  checkThresholds,
  formatThresholdLines,
  parseThresholds,
  THRESHOLD_EXIT_CODE,
} from "../loadgen/thresholds.ts";
import { EXIT_CODES_HELP, signalExitCode } from "./exit_codes.ts";
import { CLEAR_LINE, progressWidth, redrawLine } from "./progress.ts";
import {
  checkOutputPath,
  type Command,
  numberFlag,
  oneOf,
  type OptionSpecs,
  parseDuration,
  parseFlags,
  parseHost,
} from "./args.ts";

const HELP = `Usage: echokit load [--plan NAME|FILE] [--host H --port P | --spawn MODE] [options]

Runs a JMeter-style plan (threads × loops, ramp-up) against a TCP echo server and
prints JMeter's "summary +"/"summary =" lines, extended with the server's and the
generator's CPU and memory, then a final table.

Target:
  --connections N      the same as --threads N: one connection per thread (give one)
  --plan NAME|FILE     plan1, plan2, a .json or a JMeter .jmx file (default: plan2)
  -J, --property NAME=VALUE
                       a JMeter property for the .jmx's \${__P(NAME)}, as jmeter -J
                       (repeatable: -Jthreads=20 -Jport=7000)
  --host HOST          server host (default: the plan's, else 127.0.0.1)
  --port PORT          server port (default: the plan's, else 7000)
  --spawn MODE         start "serve --mode MODE --port 0" for the run (${MODES.join(", ")})
  --pid PID            sample this server process tree's CPU and memory

Run:
  --interval TIME      seconds between "summary +" lines (default: 30, as JMeter)
  --warmup TIME        exclude the first TIME from the figures (reported apart; with
                       --jtl its samples go to FILE.warmup.jtl)
  --engine E           auto (default: uring where io_uring is allowed, else poll
                       on Linux, else async), poll (FFI epoll loop), uring (one
                       io_uring per worker, Linux) or async (Deno.connect)
  --workers N          worker threads driving the connections (default: 1)
  --rate R             open model: R samples/s in total, latency from each intended send
  --segment I/N        run segment I of N of the plan (I 0-based, as Kubernetes'
                       JOB_COMPLETION_INDEX): the plan's threads k with k mod N = I,
                       on the whole plan's ramp-up, thread names and share of --rate;
                       N such runs together are the plan (merge: compare merge)
  --start-at TIME      start at TIME (ISO 8601, e.g. 2026-12-07T02:00:00Z, or epoch
                       ms), so segments start together; waits, saying so on stderr

Output:
  --jtl FILE           write every sample as a JMeter CSV JTL (default 17 columns;
                       with --rate, timeStamp is the intended start)
  --jtl-timestamps intended|actual
                       with --rate: timeStamp is each sample's intended start (the
                       default; elapsed counts from it) or the moment it was sent
  --jtl-thread-prefix L
                       thread names "L-<group> 1-<n>" (group: the .jmx Thread Group's
                       name, else "Thread Group"), as JMeter's distributed
                       mode names them: give each load host its own L (e.g. its host
                       name) and concatenate the JTLs with the header once:
                         { cat a.jtl; tail -n +2 b.jtl; } > all.jtl
  --json FILE|-        write the full result as JSON ("-": stdout, and nothing else there)
  --quiet              only the results on stdout (summary = line, table, thresholds)
                       and errors on stderr: no summary + lines, notes or progress
  --no-progress        no live progress line (shown only when stderr is a terminal)
  --threshold EXPR     pass/fail on the result, repeatable, as k6: p50, p90, p95, p99,
                       p99.9, avg, min, max with us/ms/s (p99<5ms), err in % or a
                       fraction (err<0.1%), rate (rate>1000/s); each is reported
                       pass/FAIL (text and --json); a failed one exits 99
  -h, --help           show this help

${EXIT_CODES_HELP}

${PLAN_OPTIONS_HELP}`;

/** `-J NAME=VALUE` flags as a property map; a later flag wins, as in JMeter. */
function jmeterProperties(raw: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of raw) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? "" : item.slice(0, eq).trim();
    if (name === "") {
      throw new UsageError(
        `Invalid -J/--property "${item}" (use -JNAME=VALUE, e.g. -Jthreads=20)`,
      );
    }
    out[name] = item.slice(eq + 1);
  }
  return out;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * The live progress line, short enough for 80 columns in common runs
 * (`  12.3 s  45% 1,234,567 smp 98,765/s err 0 thr 100/100 warm-up`);
 * {@linkcode redrawLine} cuts it to the terminal's width.
 *
 * @param p The progress figures.
 * @returns The line.
 */
export function progressLine(p: LoadProgress): string {
  const done = p.expected ? ` ${(p.samples / p.expected * 100).toFixed(0).padStart(3)}%` : "";
  return `${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s${done} ${fmtInt(p.samples)} smp ${
    fmtInt(p.rate)
  }/s err ${fmtInt(p.errors)} thr ${p.active}/${p.threads}${p.warmup ? " warm-up" : ""}`;
}

/** The flags of `echokit load`, as {@linkcode parseFlags} takes them. */
export const LOAD_FLAGS: OptionSpecs = {
  ...PLAN_OPTIONS,
  plan: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  spawn: { type: "string" },
  pid: { type: "string" },
  interval: { type: "string" },
  warmup: { type: "string" },
  engine: { type: "string" },
  workers: { type: "string" },
  rate: { type: "string" },
  jtl: { type: "string" },
  "jtl-thread-prefix": { type: "string" },
  "jtl-timestamps": { type: "string" },
  property: { type: "string", short: "J", multiple: true },
  json: { type: "string" },
  segment: { type: "string" },
  "start-at": { type: "string" },
  threshold: { type: "string", multiple: true },
  connections: { type: "string" },
  quiet: { type: "boolean" },
  "no-progress": { type: "boolean" },
};

/** The `load` subcommand. */
export const loadCommand: Command = {
  name: "load",
  summary: "run a JMeter-style plan against a server",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, LOAD_FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (values.connections !== undefined) {
      if (values.threads !== undefined) {
        throw new UsageError("--connections is --threads under another name (give one of them)");
      }
      values.threads = values.connections;
    }
    const plan = await resolvePlan(String(values.plan ?? "plan2"), planOverridesFromFlags(values), {
      warn: (m) => console.error(`warning: ${m}`),
      properties: jmeterProperties(values.property as string[] | undefined),
    });
    const spawn = values.spawn === undefined
      ? undefined
      : oneOf("--spawn", String(values.spawn), MODES);
    if (spawn && (values.host !== undefined || values.port !== undefined)) {
      throw new UsageError("Use --spawn or --host/--port, not both");
    }
    let intervalSeconds: number | undefined;
    if (values.interval !== undefined) {
      const ms = parseDuration("--interval", String(values.interval));
      if (ms % 1000 !== 0 || ms < 1000 || ms > 86_400_000) {
        throw new UsageError(
          `Invalid --interval "${values.interval}" (use whole seconds from 1 to 86400)`,
        );
      }
      intervalSeconds = ms / 1000;
    }
    let warmupSeconds: number | undefined;
    if (values.warmup !== undefined) {
      warmupSeconds = parseDuration("--warmup", String(values.warmup)) / 1000;
      // Unbounded, a typo such as 99999999h overflows the warm-up timer, which then fires at once.
      if (warmupSeconds > MAX_RAMP_UP_S) {
        throw new UsageError(
          `Invalid --warmup "${values.warmup}" (use 0 to ${MAX_RAMP_UP_S} seconds)`,
        );
      }
    }
    const engine = values.engine === undefined || values.engine === "auto"
      ? undefined
      : oneOf("--engine", String(values.engine), ["auto", ...ENGINES]) as EngineName;
    const jtlThreadPrefix = values["jtl-thread-prefix"] === undefined
      ? undefined
      : String(values["jtl-thread-prefix"]);
    if (jtlThreadPrefix !== undefined && values.jtl === undefined) {
      throw new UsageError("--jtl-thread-prefix names the threads of a JTL (add --jtl FILE)");
    }
    jtlThreadGroupName(jtlThreadPrefix);
    const jtlTimestamps = values["jtl-timestamps"] === undefined
      ? undefined
      : oneOf("--jtl-timestamps", String(values["jtl-timestamps"]), ["intended", "actual"]);
    if (jtlTimestamps !== undefined && (values.jtl === undefined || values.rate === undefined)) {
      throw new UsageError(
        "--jtl-timestamps picks the JTL's timeStamp under --rate (add --rate R and --jtl FILE)",
      );
    }
    if (values.jtl !== undefined) checkOutputPath("--jtl", String(values.jtl));
    const pid = numberFlag(values, "pid", { min: 1 });
    // Else the run goes ahead and its server columns quietly say "n/a".
    if (pid !== undefined && procAvailable() && readProcStat(pid) === undefined) {
      throw new UsageError(
        `Invalid --pid "${values.pid}" (no such process; give the server's pid)`,
      );
    }
    const segment = values.segment === undefined ? undefined : parseSegment(String(values.segment));
    const startAt = values["start-at"] === undefined
      ? undefined
      : parseStartAt(String(values["start-at"]));
    const thresholds = parseThresholds(values.threshold as string[] | undefined);
    const json = values.json === undefined ? undefined : String(values.json);
    if (json !== undefined && json !== "-") checkOutputPath("--json", json);
    const jsonToStdout = json === "-";
    // With --json -, stdout carries the JSON document only; lines go to stderr.
    const out = jsonToStdout ? console.error : console.log;
    const quiet = values.quiet === true;

    const controller = new AbortController();
    let signals = 0;
    let stoppedBy: Deno.Signal | undefined;
    const sigs: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    const listeners = sigs.map((sig) => () => {
      signals++;
      if (signals === 1) {
        stoppedBy = sig;
        console.error("\nstopping: finishing the samples in flight (Ctrl-C again to exit at once)");
        controller.abort();
      } else {
        Deno.exit(signalExitCode(sig));
      }
    });
    sigs.forEach((s, i) => Deno.addSignalListener(s, listeners[i]));

    const tty = Deno.stderr.isTerminal() && !quiet && values["no-progress"] !== true;
    const width = progressWidth();
    let progressShown = false;
    const clearProgress = () => {
      if (progressShown) {
        Deno.stderr.writeSync(new TextEncoder().encode(CLEAR_LINE));
        progressShown = false;
      }
    };
    let result: LoadResult;
    try {
      result = await runLoad({
        plan,
        hostname: values.host === undefined ? undefined : parseHost("--host", String(values.host)),
        port: numberFlag(values, "port", { min: 1, max: 65535 }),
        spawn,
        pid,
        intervalSeconds,
        warmupSeconds,
        engine,
        workers: numberFlag(values, "workers", { min: 1, max: 64 }),
        rate: numberFlag(values, "rate", { min: 0.001, fraction: true }),
        jtl: values.jtl === undefined ? undefined : String(values.jtl),
        jtlThreadPrefix,
        jtlTimestamps,
        segment,
        startAt,
        signal: controller.signal,
        onLine: (line) => {
          clearProgress();
          if (!quiet) out(line);
        },
        onNote: (note) => {
          clearProgress();
          if (!quiet) console.error(note);
        },
        onProgress: tty
          ? (p) => {
            Deno.stderr.writeSync(new TextEncoder().encode(redrawLine(progressLine(p), width)));
            progressShown = true;
          }
          : undefined,
      });
    } finally {
      clearProgress();
      sigs.forEach((s, i) => Deno.removeSignalListener(s, listeners[i]));
    }
    if (!quiet) out("");
    // The summariser printed the `summary =` line already (unless quiet); JMeter prints it once.
    out(formatReport(result, { summaryLine: quiet }));
    if (thresholds.length > 0) {
      result = { ...result, thresholds: checkThresholds(thresholds, result) };
      for (const line of formatThresholdLines(result.thresholds!)) out(line);
    }
    if (json !== undefined) {
      const text = formatJsonDocument(result);
      if (jsonToStdout) {
        await Deno.stdout.write(new TextEncoder().encode(text));
      } else {
        await writeFileAtomic(json, text, { what: "--json" });
      }
    }
    // A signal wins; else stop-test-on-error is a failed run; else the thresholds decide.
    if (stoppedBy) return signalExitCode(stoppedBy);
    if (result.interrupted) return 1;
    return result.thresholds?.some((t) => !t.pass) ? THRESHOLD_EXIT_CODE : 0;
  },
};
