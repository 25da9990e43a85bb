#!/usr/bin/env -S deno run -A
/**
 * `deno task bench`: the one place echokit's performance figures come from.
 *
 * Servers (our four modes, the Python and Node peers, a native C epoll
 * server) are each driven by a native C epoll ping-pong client at 1, 100 and
 * 1000 connections, repeats interleaved across servers; the load generator is
 * compared with that C client against the C server and Python `selectors`.
 * Prints medians with min–max spreads, ratios against the C and Python
 * references, and issue 7's targets as met / not met. A benchmark, never a
 * test: no figure fails anything.
 *
 * @example Usage
 * ```sh
 * deno task bench --quick
 * deno task bench --repeat 5 --connections 100 --servers nonblocking,py-selectors,c-epoll
 * ```
 *
 * @module
 */
import { EchokitError, UsageError } from "../util/errors.ts";
import { schemaTag } from "../util/schema.ts";
import { BENCH_HELP, type BenchOptions, parseBenchArgs } from "./_bench_args.ts";
import { buildNativePeers, type NativePeers } from "./_bench_native.ts";
import { checkTargets } from "./_bench_targets.ts";
import {
  formatGeneratorTable,
  formatHeader,
  formatServerTables,
  formatTargets,
  summariseGenerators,
  summariseServers,
} from "./_bench_report.ts";
import {
  type BenchServer,
  benchServers,
  measureServer,
  type ServerCell,
  ServerStartError,
} from "./_bench_run.ts";
import { type GeneratorCell, measureGenerators } from "./_bench_generator.ts";
import { machineInfo } from "./_bench_machine.ts";
import { SyscallCounter } from "./_bench_proc.ts";

export { BENCH_FLAGS, BENCH_HELP } from "./_bench_args.ts";

const GENERATOR_CONNECTIONS = 100;
/**
 * Servers the generators are measured against: C epoll (the reference, which
 * under 100 connections runs at ~98% of its core, so it sets the pace), the
 * uring server (the fastest here, with CPU to spare: the generators' own
 * ceiling shows) and Python's selectors (a slow server).
 */
const GENERATOR_SERVERS = ["c-epoll", "uring", "py-selectors"];

/**
 * Runs the benchmark and prints its report.
 *
 * @param args Command-line arguments (see `--help`).
 * @returns The exit code: 0, 1 on a runtime failure, 2 on bad flags.
 */
export async function benchMain(args: string[]): Promise<number> {
  let options: BenchOptions | "help";
  try {
    options = parseBenchArgs(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${BENCH_HELP}`);
      return 2;
    }
    throw err;
  }
  if (options === "help") {
    console.log(BENCH_HELP);
    return 0;
  }
  try {
    await runBench(options, ["deno task bench", ...args].join(" "));
    return 0;
  } catch (err) {
    if (err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

const tty = Deno.stderr.isTerminal();
function progress(text: string): void {
  if (tty) {
    Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${text}`));
  }
}

async function runBench(options: BenchOptions, command: string): Promise<void> {
  let native: NativePeers | string;
  try {
    native = await buildNativePeers();
  } catch (err) {
    native = (err as Error).message;
  }
  if (typeof native === "string") {
    // Without the native client nothing here can be measured the same way.
    throw new EchokitError(`Cannot build the native reference client: ${native}`);
  }
  const { servers, skipped } = benchServers(options.servers, native);
  let syscalls = options.syscalls;
  if (syscalls && Deno.build.os === "linux") {
    // Probe once: perf may be missing or not allowed here.
    const probe = await SyscallCounter.attach(Deno.pid);
    if (probe) await probe.stop();
    else syscalls = false;
  }
  const machine = await machineInfo();
  const notes = [
    `load: ${options.size}-byte ping-pong, native C epoll client, ${
      options.durationMs / 1000
    } s measured per cell after warm-up (every connection has done a round trip, ≥ 0.3 s), ` +
    `${options.repeat} repeat${options.repeat === 1 ? "" : "s"} interleaved across servers`,
    {
      none: "pinning: none (the scheduler places server and client)",
      split: "pinning: server (all threads) on CPU 0, client on CPU 1 (taskset)",
      same: "pinning: server (all threads) and client both on CPU 1 (taskset)",
    }[options.pin],
    `machine load before the run: ${loadavg()}`,
    `server CPU: utime+stime of its process tree (/proc) over the measured window; ` +
    `RSS from /proc (MiB/1k conns: the connections open and quiet after one round trip each, ` +
    `before the load, minus idle); sys/msg: ${
      syscalls ? "perf raw_syscalls over a separate 1 s pass (repeat 1)" : "not counted"
    }; self sys/msg: the server's own count (FFI modes, c-epoll)`,
    "blocking: --max-threads raised to the connection count above its default cap when " +
    "MemAvailable allows ~10 MiB per thread",
    "figures: median (min–max) over repeats; ratios are taken within each repeat",
  ];
  console.log(formatHeader(command, machine, notes));

  const serverCells: ServerCell[] = [];
  const generatorCells: GeneratorCell[] = [];
  const failures = new Map<string, string>(skipped);
  const cellFailures: string[] = [];

  if (options.only !== "loadgen") {
    const live: BenchServer[] = [...servers];
    const total = options.repeat * options.connections.length * live.length;
    let step = 0;
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      for (const connections of options.connections) {
        // Rotate the order each repeat so no server always runs first (cold) or last.
        const order = live.map((_, i) => live[(i + repeat - 1) % live.length]);
        for (const server of order) {
          step++;
          if (failures.has(server.name)) continue;
          progress(
            `[${step}/${total}] repeat ${repeat}/${options.repeat}: ${server.name} × ${connections}`,
          );
          try {
            serverCells.push(
              await measureServer(server, connections, repeat, {
                native,
                durationMs: options.durationMs,
                size: options.size,
                pin: options.pin,
                syscalls: syscalls && repeat === 1,
              }),
            );
          } catch (err) {
            if (!(err instanceof EchokitError)) throw err;
            const why = err.message.split("\n").filter((l) => l.trim()).slice(0, 2).join(" — ");
            // A server that cannot start is skipped from here on; a failed cell is noted.
            if (err instanceof ServerStartError) failures.set(server.name, why);
            else cellFailures.push(`${server.name} × ${connections} (repeat ${repeat}): ${why}`);
          }
        }
      }
    }
    progress("");
    const summaries = summariseServers(serverCells);
    console.log(`\n## Servers (driven by the native C client)\n`);
    console.log(formatServerTables(summaries));
    reportSkips(failures);
    for (const line of cellFailures) console.log(`failed ${line}`);
  }

  const generatorFailures = new Map<string, string>();
  if (options.only !== "servers") {
    const targets = servers.filter((s) => GENERATOR_SERVERS.includes(s.name));
    let step = 0;
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      for (const server of targets) {
        step++;
        progress(`[${step}/${options.repeat * targets.length}] generators vs ${server.name}`);
        try {
          const { cells, failed } = await measureGenerators(server, repeat, {
            native,
            durationMs: options.durationMs,
            size: options.size,
            pin: options.pin,
            syscalls: false,
            connections: GENERATOR_CONNECTIONS,
            generators: options.generators,
          });
          generatorCells.push(...cells);
          for (const [g, why] of failed) generatorFailures.set(g, why.split("\n")[0]);
        } catch (err) {
          if (!(err instanceof EchokitError)) throw err;
          generatorFailures.set(server.name, err.message.split("\n")[0]);
        }
      }
    }
    progress("");
    console.log(
      `\n## Load generator (${GENERATOR_CONNECTIONS} connections, ${options.size} B; ` +
        `echokit load: its own CPU figure, 1 s warm-up excluded; server CPU %: the server's ` +
        `while loaded, near 100 where it sets the pace)\n`,
    );
    console.log(formatGeneratorTable(summariseGenerators(generatorCells)));
    reportSkips(generatorFailures);
  }

  const targets = checkTargets(
    summariseServers(serverCells),
    summariseGenerators(generatorCells),
  );
  console.log(`\nmachine load after the run: ${loadavg()}`);
  console.log(`\n## Targets\n`);
  console.log(formatTargets(targets));

  if (options.json) {
    const doc = {
      ...schemaTag("bench", 1),
      command,
      machine,
      notes,
      options,
      servers: { cells: serverCells, summaries: summariseServers(serverCells) },
      generators: { cells: generatorCells, summaries: summariseGenerators(generatorCells) },
      targets,
      skipped: Object.fromEntries([...failures, ...generatorFailures]),
      failedCells: cellFailures,
    };
    await Deno.writeTextFile(options.json, JSON.stringify(doc, null, 2) + "\n");
  }
}

function loadavg(): string {
  try {
    const [one, five, fifteen] = Deno.readTextFileSync("/proc/loadavg").split(" ");
    return `load average ${one} ${five} ${fifteen} on ${navigator.hardwareConcurrency} CPUs`;
  } catch {
    return "unknown";
  }
}

function reportSkips(failures: Map<string, string>): void {
  for (const [name, why] of failures) console.log(`skipped ${name}: ${why}`);
}

if (import.meta.main) {
  Deno.exit(await benchMain(Deno.args));
}
