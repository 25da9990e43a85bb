/**
 * One generator cell of the benchmark: a fresh server loaded by the native C
 * client and by echokit's own `load`, in alternating order, each measured for
 * its rate, latency and CPU per sample.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import { ResourceMonitor, usageBetween } from "../loadgen/resource_monitor.ts";
import { ioUringUnavailableReason, NO_MULTISHOT_RECV_ENV } from "../servers/os/io_uring.ts";
import { echokitArgv } from "../servers/child.ts";
import type { EchokitGenerator, PinMode } from "./_bench_args.ts";
import { runNativeClient } from "./_bench_client.ts";
import { pinProcess } from "./_bench_proc.ts";
import { type BenchServer, type CellContext, pinnedCpus, startBenchServer } from "./_bench_run.ts";

/** One generator × server × repeat measurement (100 connections). */
export interface GeneratorCell {
  /** `c-client` (the native reference), or one of echokit's (`ECHOKIT_GENERATORS`). */
  generator: "c-client" | EchokitGenerator;
  /** Server it loaded. */
  server: string;
  /** Repeat number, from 1. */
  repeat: number;
  /** Samples (round trips) per second. */
  rate: number;
  /** Generator CPU per sample, µs (all its threads). */
  cpuUsPerSample: number;
  /** Median latency, µs. */
  p50Us: number;
  /** 99th percentile latency, µs. */
  p99Us: number;
  /** Failed samples or connections. */
  errors: number;
  /**
   * The server's CPU while the generator loaded it, % of one core (its
   * process tree, from `/proc`, over a window inside the measured one; NaN
   * where `/proc` cannot be read). Near 100 the server sets the pace.
   */
  serverCpuPercent: number;
}

/**
 * Runs our load generator (`echokit load`, a child process) against a server
 * for a measured window after a 1 s warm-up, pinned like the native client.
 *
 * @param port Server port on 127.0.0.1.
 * @param options Connections, window, message size, pinning.
 * @returns Samples/s, its own CPU per sample, latency, errors.
 * @throws {EchokitError} When it fails or prints no result.
 */
export async function runEchokitGenerator(
  port: number,
  options: {
    connections: number;
    durationMs: number;
    size: number;
    pin: PinMode;
    engine?: string;
    /** Extra environment for the `load` child. */
    env?: Record<string, string>;
  },
): Promise<Omit<GeneratorCell, "generator" | "server" | "repeat" | "serverCpuPercent">> {
  const warmupS = 1;
  const argv = echokitArgv([
    "load",
    ...(options.engine ? ["--engine", options.engine] : []),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--threads",
    String(options.connections),
    "--loops",
    "infinite",
    "--ramp-up",
    "0",
    "--message-size",
    String(options.size),
    "--duration",
    `${options.durationMs / 1000 + warmupS}s`,
    "--warmup",
    `${warmupS}s`,
    "--interval",
    "3600",
    "--json",
    "-",
  ]);
  const cpu = pinnedCpus(options.pin).client;
  const full = cpu === undefined ? argv : ["taskset", "-c", String(cpu), ...argv];
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const limit = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }, options.durationMs + 90_000);
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  const status = await child.status;
  clearTimeout(limit);
  let doc: {
    rate: number;
    errors: number;
    latency: { p50Us: number; p99Us: number };
    generator?: { cpuUsPerSample: number };
  };
  try {
    doc = JSON.parse(out);
  } catch {
    const detail = err.trim().split("\n").slice(-3).join("; ");
    throw new EchokitError(
      `echokit load printed no result (exit ${status.code})${detail ? `: ${detail}` : ""}`,
    );
  }
  return {
    rate: doc.rate,
    cpuUsPerSample: doc.generator?.cpuUsPerSample ?? NaN,
    p50Us: doc.latency.p50Us,
    p99Us: doc.latency.p99Us,
    errors: doc.errors,
  };
}

/**
 * Measures the native client and our generator against one fresh server,
 * in the given order, at 100 connections.
 *
 * @param server The server to load.
 * @param repeat Repeat number (odd repeats run the native client first).
 * @param ctx How to measure.
 * @returns One cell per generator; a generator that failed is reported in `failed`.
 */
export async function measureGenerators(
  server: BenchServer,
  repeat: number,
  ctx: CellContext & { connections: number; generators: readonly EchokitGenerator[] },
): Promise<{ cells: GeneratorCell[]; failed: Map<string, string> }> {
  const proc = await startBenchServer(server);
  const cells: GeneratorCell[] = [];
  const failed = new Map<string, string>();
  const monitor = new ResourceMonitor({ pid: proc.pid, tree: true, refreshMs: 1000 });
  try {
    await monitor.start();
    const cpus = pinnedCpus(ctx.pin);
    if (cpus.server !== undefined) await pinProcess(proc.pid, cpus.server);
    const ours = ioUringUnavailableReason() === undefined
      ? ctx.generators
      : ctx.generators.filter((g) => g === "echokit");
    const order: GeneratorCell["generator"][] = repeat % 2 === 1
      ? ["c-client", ...ours]
      : [...ours, "c-client"];
    for (const generator of order) {
      const serverCpu = serverCpuWhileLoaded(monitor, ctx.durationMs);
      try {
        if (generator === "c-client") {
          const r = await runNativeClient(ctx.native.client, {
            port: proc.addr.port,
            connections: ctx.connections,
            size: ctx.size,
            durationMs: ctx.durationMs,
            warmupMs: 1000,
            cpu: cpus.client,
          });
          cells.push({
            generator,
            server: server.name,
            repeat,
            rate: r.rate,
            cpuUsPerSample: r.cpu_us_per_rt,
            p50Us: r.p50_us,
            p99Us: r.p99_us,
            errors: r.errors + (ctx.connections - r.connected),
            serverCpuPercent: await serverCpu,
          });
        } else {
          const engine = generator === "echokit" ? "poll" : "uring";
          const env: Record<string, string> = generator === "echokit-uring-oneshot"
            ? { [NO_MULTISHOT_RECV_ENV]: "1" }
            : {};
          const r = await runEchokitGenerator(proc.addr.port, { ...ctx, engine, env });
          cells.push({
            generator,
            server: server.name,
            repeat,
            ...r,
            serverCpuPercent: await serverCpu,
          });
        }
      } catch (err) {
        failed.set(generator, (err as Error).message);
      }
    }
  } finally {
    monitor.close();
    await proc.stop();
  }
  return { cells, failed };
}

/**
 * The server's CPU over a window that lies inside every generator's measured
 * one: both warm up for 1 s after they start (ours also starts a runtime,
 * well under 0.5 s), so the window opens 1.5 s in and closes before the end.
 *
 * @param monitor The server's monitor, started.
 * @param durationMs The measured window.
 * @returns % of one core, NaN without `/proc`.
 */
async function serverCpuWhileLoaded(monitor: ResourceMonitor, durationMs: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  const from = monitor.read();
  await new Promise((r) => setTimeout(r, Math.max(200, durationMs - 800)));
  const to = monitor.read();
  return from && to ? usageBetween(from, to).cpuPercent : NaN;
}
