/**
 * Where a server's (or the load generator's) CPU goes: drives one bench
 * server with the native C client at 100 connections, records the process
 * with `perf record` for a few seconds of steady load, and prints the share
 * of samples in the kernel, the Deno runtime, JIT-compiled JavaScript and
 * libc. The profile figures in docs/benchmarks.md come from here.
 *
 * Run: `deno task profile [--server protocol] [--generator] [--seconds 3]`
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

const HELP = `Usage: deno task profile [--server NAME] [--generator] [--seconds S]

Drives a server with the native C client (100 connections, 64 B), records it
with perf for S seconds of steady load and prints where its CPU went: kernel,
Deno runtime, JavaScript (JIT), libc. Linux with perf and cc only.

Options:
  --server NAME   one of ${BENCH_SERVERS.join(", ")} (default: protocol)
  --generator     profile echokit's load generator against the server instead
  --seconds S     how long to record, whole seconds (default: 3)
  -h, --help      show this help`;

/** The flags of `deno task profile`. */
export const PROFILE_FLAGS: OptionSpecs = {
  server: { type: "string" },
  generator: { type: "boolean" },
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
    if (await hasProgram("perf") === undefined) {
      throw new EchokitError("perf is not installed (Debian: apt-get install linux-perf)");
    }
    const native = await buildNativePeers();
    const { servers, skipped } = benchServers([name], native);
    if (servers.length === 0) throw new EchokitError(`Cannot run ${name}: ${skipped.get(name)}`);
    const data = await Deno.makeTempFile({ prefix: "echokit-perf-", suffix: ".data" });
    const server = await startBenchServer(servers[0], 100);
    try {
      const { pid, what, rate } = generator
        ? await recordGenerator(server, data, seconds)
        : await recordServer(server, native.client, data, seconds);
      console.log(`${what}: ${rate}; perf record -p ${pid} for ${seconds} s`);
      for (const s of parseDsoReport(await perfReport(data))) {
        if (s.percent >= 0.5) console.log(`${s.percent.toFixed(1).padStart(6)}%  ${s.where}`);
      }
    } finally {
      await server.stop();
      await Deno.remove(data).catch(() => {});
    }
    return 0;
  },
};

function perfRecord(data: string, pid: number, seconds: number): Promise<Deno.CommandOutput> {
  return new Deno.Command("perf", {
    args: ["record", "-q", "-o", data, "-p", String(pid), "--", "sleep", String(seconds)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
}

async function perfReport(data: string): Promise<string> {
  const out = await new Deno.Command("perf", {
    args: ["report", "-i", data, "--sort", "dso", "--stdio", "-q"],
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
) {
  let recording: Promise<Deno.CommandOutput> | undefined;
  const result = await runNativeClient(client, {
    port: server.addr.port,
    connections: 100,
    durationMs: (seconds + 1) * 1000,
    onReady: () => {
      recording = perfRecord(data, server.pid, seconds);
    },
  });
  checkRecorded(await recording);
  return {
    pid: server.pid,
    what: `${server.name} under the C client`,
    rate: `${Math.round(result.rate)} msgs/s`,
  };
}

// Our generator drives the server (100 threads, no ramp-up); perf records
// the generator after a second of warm-up.
async function recordGenerator(server: ServerProcess, data: string, seconds: number) {
  const [cmd, ...args] = echokitArgv([
    ..."load --threads 100 --loops infinite --ramp-up 0".split(" "),
    ...["--port", String(server.addr.port), "--duration", String(seconds + 2)],
  ]);
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "null" })
    .spawn();
  const output = child.output();
  await new Promise((r) => setTimeout(r, 1000));
  checkRecorded(await perfRecord(data, child.pid, seconds));
  const summary = /^summary = .*$/m.exec(new TextDecoder().decode((await output).stdout));
  return {
    pid: child.pid,
    what: `echokit load against ${server.name}`,
    rate: summary?.[0] ?? "no summary line",
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
