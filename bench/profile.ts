/**
 * Where a server's (or the load generator's) CPU goes: drives one bench
 * server with the native C client at 100 connections, records the process
 * with `perf record` for a few seconds of steady load, and prints the share
 * of samples in the kernel, the Deno runtime, JIT-compiled JavaScript and
 * libc. The profile figures in docs/benchmarks.md come from here.
 *
 * Run: `deno task profile [--server protocol] [--generator] [--seconds 3]`
 *      `deno task profile --server c-epoll --by uring --symbols sock_def_readable`
 *
 * @module
 */
import { type Command, numberFlag, oneOf, type OptionSpecs, parseFlags } from "../cli/args.ts";
import { EchokitError, UsageError } from "../util/errors.ts";
import { echokitArgv, type ServerProcess } from "../servers/child.ts";
import { BENCH_SERVERS } from "./_bench_args.ts";
import { runNativeClient } from "./_bench_client.ts";
import { buildNativePeers } from "./_bench_native.ts";
import { hasProgram } from "./_bench_proc.ts";
import { benchServers, startBenchServer } from "./_bench_run.ts";

/** One row of `perf report --sort dso`: where samples landed. */
export interface DsoShare {
  /** `kernel`, `Deno runtime`, `JavaScript (JIT)`, or the library's name. */
  where: string;
  /** Share of all samples, %. */
  percent: number;
}

/**
 * Reads the "children" share (the function and what it calls) of each named
 * symbol from `perf report --children --sort sym --stdio -g none` output.
 *
 * @param report The report text.
 * @param names The symbols asked for.
 * @returns Their shares, % (0 for a symbol with no samples), in `names`' order.
 *
 * @example Usage
 * ```ts
 * import { parseSymbolShares } from "./profile.ts";
 * parseSymbolShares("     9.43%     1.54%  [k] sock_def_readable\n", ["sock_def_readable"]);
 * // [{ where: "sock_def_readable", percent: 9.43 }]
 * ```
 */
export function parseSymbolShares(report: string, names: string[]): DsoShare[] {
  const found = new Map<string, number>();
  for (const m of report.matchAll(/^\s*([\d.]+)%\s+[\d.]+%\s+\[[^\]]+\]\s+(\S+)\s*$/gm)) {
    if (!found.has(m[2])) found.set(m[2], Number(m[1]));
  }
  return names.map((where) => ({ where, percent: found.get(where) ?? 0 }));
}

/**
 * Reads `perf report --sort dso --stdio` output into shares, with the JIT
 * threads summed into one row and the names a reader knows.
 *
 * @param report The report text.
 * @returns Shares, largest first.
 *
 * @example Usage
 * ```ts
 * import { parseDsoReport } from "./profile.ts";
 * parseDsoReport("    60.00%  [kernel.kallsyms]\n    40.00%  deno\n"); // kernel 60, Deno runtime 40
 * ```
 */
export function parseDsoReport(report: string): DsoShare[] {
  const shares = new Map<string, number>();
  for (const m of report.matchAll(/^\s*([\d.]+)%\s+(.+?)\s*$/gm)) {
    const dso = m[2];
    const where = dso === "[kernel.kallsyms]"
      ? "kernel"
      : dso === "deno"
      ? "Deno runtime"
      : dso.startsWith("[JIT]")
      ? "JavaScript (JIT)"
      : dso;
    shares.set(where, (shares.get(where) ?? 0) + Number(m[1]));
  }
  return [...shares].map(([where, percent]) => ({ where, percent }))
    .sort((a, b) => b.percent - a.percent);
}

/** Who loads the server while it is profiled: the C client, or `echokit load --engine E`. */
const LOADERS = ["c-client", "poll", "uring"] as const;

const HELP = `Usage: deno task profile [--server NAME] [--generator] [--by LOADER] [--symbols F,G]
                         [--seconds S]

Drives a server with the native C client (100 connections, 64 B), records it
with perf for S seconds of steady load and prints where its CPU went: kernel,
Deno runtime, JavaScript (JIT), libc. Linux with perf and cc only.

Options:
  --server NAME   one of ${BENCH_SERVERS.join(", ")} (default: protocol)
  --generator     profile echokit's load generator against the server instead
  --by LOADER     who loads the profiled server: ${LOADERS.join(", ")} (echokit load
                  --engine poll or uring; default: c-client). How much of the
                  server's time its clients make it spend: the kernel wakes the
                  client from the server's send
  --symbols F,G   also print the share of these functions, each with what it calls
                  (e.g. sock_def_readable, where a send wakes the peer's reader)
  --seconds S     how long to record, whole seconds (default: 3)
  -h, --help      show this help`;

/** The flags of `deno task profile`. */
export const PROFILE_FLAGS: OptionSpecs = {
  server: { type: "string" },
  generator: { type: "boolean" },
  by: { type: "string" },
  symbols: { type: "string" },
  seconds: { type: "string" },
};

/** The profile script as a command. */
export const profileCommand: Command = {
  name: "profile",
  summary: "where a server's or the generator's CPU goes (perf)",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, PROFILE_FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const name = oneOf("--server", String(values.server ?? "protocol"), BENCH_SERVERS);
    const seconds = numberFlag(values, "seconds", { min: 1, max: 60 }) ?? 3;
    const generator = values.generator === true;
    const by = oneOf("--by", String(values.by ?? "c-client"), LOADERS);
    if (generator && values.by !== undefined) {
      throw new UsageError("--by names who loads the server; with --generator echokit load does");
    }
    const symbols = values.symbols === undefined
      ? []
      : String(values.symbols).split(",").map((x) => x.trim()).filter((x) => x !== "");
    if (values.symbols !== undefined && symbols.length === 0) {
      throw new UsageError(
        `Invalid --symbols "${values.symbols}" (use names such as sock_def_readable)`,
      );
    }
    if (await hasProgram("perf") === undefined) {
      throw new EchokitError("perf is not installed (Debian: apt-get install linux-perf)");
    }
    const native = await buildNativePeers();
    const { servers, skipped } = benchServers([name], native);
    if (servers.length === 0) throw new EchokitError(`Cannot run ${name}: ${skipped.get(name)}`);
    const data = await Deno.makeTempFile({ prefix: "echokit-perf-", suffix: ".data" });
    const server = await startBenchServer(servers[0], 100);
    try {
      const graph = symbols.length > 0;
      const { pid, what, rate } = generator
        ? await recordGenerator(server, data, seconds, graph)
        : by === "c-client"
        ? await recordServer(server, native.client, data, seconds, graph)
        : await recordServerUnder(server, by, data, seconds, graph);
      console.log(`${what}: ${rate}; perf record -p ${pid} for ${seconds} s`);
      const dso = ["--no-children", "--sort", "dso"];
      for (const s of parseDsoReport(await perfReport(data, dso))) {
        if (s.percent >= 0.5) console.log(`${s.percent.toFixed(1).padStart(6)}%  ${s.where}`);
      }
      if (graph) {
        const report = await perfReport(data, ["--children", "--sort", "sym", "-g", "none"]);
        for (const s of parseSymbolShares(report, symbols)) {
          console.log(`${s.percent.toFixed(1).padStart(6)}%  ${s.where} (with what it calls)`);
        }
      }
    } finally {
      await server.stop();
      await Deno.remove(data).catch(() => {});
    }
    return 0;
  },
};

function perfRecord(
  data: string,
  pid: number,
  seconds: number,
  graph: boolean,
): Promise<Deno.CommandOutput> {
  const g = graph ? ["-g"] : [];
  return new Deno.Command("perf", {
    args: ["record", "-q", ...g, "-o", data, "-p", String(pid), "--", "sleep", String(seconds)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
}

async function perfReport(data: string, sort: string[]): Promise<string> {
  const out = await new Deno.Command("perf", {
    args: ["report", "-i", data, ...sort, "--stdio", "-q"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

// The C client holds the server at 100 connections; perf records the
// server from the moment every connection is warm.
async function recordServer(
  server: ServerProcess,
  client: string,
  data: string,
  seconds: number,
  graph: boolean,
) {
  let recording: Promise<Deno.CommandOutput> | undefined;
  const result = await runNativeClient(client, {
    port: server.addr.port,
    connections: 100,
    durationMs: (seconds + 1) * 1000,
    onReady: () => {
      recording = perfRecord(data, server.pid, seconds, graph);
    },
  });
  checkRecorded(await recording);
  return {
    pid: server.pid,
    what: `${server.name} under the C client`,
    rate: `${Math.round(result.rate)} msgs/s`,
  };
}

/** Starts `echokit load` against the server: 100 threads, no ramp-up, for `seconds` + 2 s. */
function startLoad(server: ServerProcess, seconds: number, engine?: string) {
  const [cmd, ...args] = echokitArgv([
    ..."load --threads 100 --loops infinite --ramp-up 0 --message-size 64".split(" "),
    ...(engine === undefined ? [] : ["--engine", engine]),
    ...["--port", String(server.addr.port), "--duration", String(seconds + 2)],
  ]);
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "null" })
    .spawn();
  const summary = child.output().then((out) =>
    /^summary = .*$/m.exec(new TextDecoder().decode(out.stdout))?.[0] ?? "no summary line"
  );
  return { pid: child.pid, summary };
}

// Our generator drives the server (100 threads, no ramp-up); perf records
// the generator after a second of warm-up.
async function recordGenerator(
  server: ServerProcess,
  data: string,
  seconds: number,
  graph: boolean,
) {
  const load = startLoad(server, seconds);
  await new Promise((r) => setTimeout(r, 1000));
  checkRecorded(await perfRecord(data, load.pid, seconds, graph));
  return { pid: load.pid, what: `echokit load against ${server.name}`, rate: await load.summary };
}

// `echokit load --engine E` drives the server; perf records the server after
// a second of warm-up.
async function recordServerUnder(
  server: ServerProcess,
  engine: string,
  data: string,
  seconds: number,
  graph: boolean,
) {
  const load = startLoad(server, seconds, engine);
  await new Promise((r) => setTimeout(r, 1000));
  checkRecorded(await perfRecord(data, server.pid, seconds, graph));
  return {
    pid: server.pid,
    what: `${server.name} under echokit load --engine ${engine}`,
    rate: await load.summary,
  };
}

function checkRecorded(out: Deno.CommandOutput | undefined): void {
  if (!out?.success) {
    const why = out ? new TextDecoder().decode(out.stderr).trim().split("\n").pop() : "not started";
    throw new EchokitError(`perf record failed: ${why}`);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await profileCommand.run(Deno.args));
  } catch (err) {
    if (err instanceof UsageError || err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      Deno.exit(err.exitCode);
    }
    throw err;
  }
}
