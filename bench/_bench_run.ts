/**
 * One server cell of the benchmark at a time: start a server, measure it
 * under the native client, stop it. Generator cells are in
 * {@link ./_bench_generator.ts}, the machine header in {@link ./_bench_machine.ts}.
 *
 * @module
 */
import { ioUringUnavailableReason } from "../servers/os/io_uring.ts";
import { parseStatsLine } from "../servers/stats_line.ts";
import { EchokitError } from "../util/errors.ts";
import { ResourceMonitor } from "../loadgen/resource_monitor.ts";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";
import { readExactly } from "../servers/testing.ts";
import { DEFAULT_MAX_THREADS, type Mode, MODES } from "../servers/types.ts";
import {
  NATIVE_SERVER,
  type PinMode,
  PROTOCOL_NODE_SERVER,
  STREAM_DENO_SERVER,
  URING_NOBATCH_SERVER,
} from "./_bench_args.ts";
import { type NativeClientResult, runNativeClient } from "./_bench_client.ts";
import type { NativePeers } from "./_bench_native.ts";
import { pinProcess, SyscallCounter } from "./_bench_proc.ts";
import { missingRuntime } from "../compare/peers.ts";
import { SHIPPED_PEERS } from "../compare/peers.ts";

/** A server the benchmark can start. */
export interface BenchServer {
  /** Table name (`nonblocking`, `py-selectors`, `c-epoll`). */
  name: string;
  /** Ours, an external peer, or the native reference. */
  kind: "echokit" | "peer" | "native";
  /** For our modes: the mode. */
  mode?: Mode;
  /** For peers: the command (`{port}` replaced). */
  command?: string[];
  /** For our modes: extra `serve` flags (`--engine node`). */
  args?: string[];
}

/** Each of our modes and the Python server that teaches the same model (none for `uring`). */
export const PYTHON_PEER_OF: Readonly<Partial<Record<Mode, string>>> = {
  stream: "py-streams",
  protocol: "py-protocol",
  blocking: "py-threaded",
  nonblocking: "py-selectors",
};

/**
 * The servers to run, each with a reason when it cannot run here.
 *
 * @param names Server names asked for.
 * @param native The compiled native peers, or why there are none.
 * @returns Runnable servers and skipped ones with reasons.
 */
export function benchServers(
  names: readonly string[],
  native: NativePeers | string,
): { servers: BenchServer[]; skipped: Map<string, string> } {
  const servers: BenchServer[] = [];
  const skipped = new Map<string, string>();
  for (const name of names) {
    const refused = name === "uring" || name === URING_NOBATCH_SERVER
      ? ioUringUnavailableReason()
      : undefined;
    if (refused !== undefined) {
      skipped.set(name, `io_uring is unavailable: ${refused}`);
    } else if ((MODES as readonly string[]).includes(name)) {
      servers.push({ name, kind: "echokit", mode: name as Mode });
    } else if (name === PROTOCOL_NODE_SERVER) {
      servers.push({ name, kind: "echokit", mode: "protocol", args: ["--engine", "node"] });
    } else if (name === URING_NOBATCH_SERVER) {
      servers.push({ name, kind: "echokit", mode: "uring", args: ["--batch-wait", "0"] });
    } else if (name === STREAM_DENO_SERVER) {
      servers.push({ name, kind: "echokit", mode: "stream", args: ["--engine", "deno"] });
    } else if (name === NATIVE_SERVER) {
      if (typeof native === "string") skipped.set(name, native);
      else servers.push({ name, kind: "native", command: [native.server, "{port}"] });
    } else {
      const peer = SHIPPED_PEERS.find((p) => p.name === name)!;
      // compare's check: the program on PATH, the script there, the probe (uvloop) passing.
      const missing = missingRuntime(peer);
      if (missing !== undefined) skipped.set(name, missing);
      else servers.push({ name, kind: "peer", command: peer.command });
    }
  }
  return { servers, skipped };
}

/** How to measure. */
export interface CellContext {
  /** The native client and server. */
  native: NativePeers;
  /** Measured window, ms. */
  durationMs: number;
  /** Message size, bytes. */
  size: number;
  /** CPU placement of server and client. */
  pin: PinMode;
  /** Also count syscalls per message with perf (an extra 1 s pass). */
  syscalls: boolean;
}

/** One server × connections × repeat measurement. */
export interface ServerCell {
  /** Server name. */
  server: string;
  /** Connections. */
  connections: number;
  /** Repeat number, from 1. */
  repeat: number;
  /** Round trips per second (= messages echoed per second). */
  rate: number;
  /** Median latency, µs. */
  p50Us: number;
  /** 99th percentile latency, µs. */
  p99Us: number;
  /** Server CPU (its whole process tree) per message, µs. */
  serverCpuUsPerMsg: number;
  /** Server CPU, % of one core. */
  serverCpuPercent: number;
  /** The native client's CPU per round trip, µs. */
  clientCpuUsPerRt: number;
  /** Server RSS before any connection, bytes. */
  rssIdleBytes: number;
  /** Highest server RSS during the run, bytes. */
  rssPeakBytes: number;
  /**
   * What 1000 open connections cost, bytes: (RSS with the connections open and
   * quiet after one round trip each − idle RSS) per 1000 connections. Taken
   * before the load, so heap a runtime grows under throughput is not counted
   * as per-connection memory.
   */
  rssPer1000Bytes: number;
  /** Syscalls per message counted by perf, all threads (undefined: not counted). */
  syscallsPerMsg?: number;
  /** Syscalls per message as the server itself reports them (`stats … syscalls=N`). */
  selfSyscallsPerMsg?: number;
  /** Round trips in the measured window. */
  roundTrips: number;
  /** Connections that failed or never connected. */
  errors: number;
  /** False when some connection never completed a round trip before the window opened. */
  warmupComplete: boolean;
}

/** A server that would not start: skip it for the rest of the run. */
export class ServerStartError extends EchokitError {
  /**
   * Makes the error.
   *
   * @param message Why it did not start.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ServerStartError";
  }
}

/**
 * The CPUs a pinning mode puts the server and the client on.
 *
 * @param pin The mode.
 * @returns CPU numbers; undefined where nothing is pinned.
 */
export function pinnedCpus(pin: PinMode): { server?: number; client?: number } {
  if (pin === "split") return { server: 0, client: 1 };
  if (pin === "same") return { server: 1, client: 1 };
  return {};
}

/**
 * Starts a server process for the benchmark.
 *
 * @param server Which server.
 * @returns The running process.
 */
export function startBenchServer(
  server: BenchServer,
  connections = 0,
): Promise<ServerProcess> {
  return server.kind === "echokit"
    ? startServerProcess({
      mode: server.mode!,
      name: server.name,
      args: serveArgs(server, connections),
    })
    : startServerProcess({ command: server.command!, name: server.name });
}

// One thread per connection is the blocking model's lesson: give it a thread
// for every connection (its default cap leaves the rest waiting in the
// backlog) when memory allows about 10 MiB per thread plus 2 GiB to spare.
function serveArgs(server: BenchServer, connections: number): string[] {
  if (server.mode !== "blocking" || connections <= DEFAULT_MAX_THREADS) return server.args ?? [];
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readProc("/proc/meminfo"));
  const available = m ? Number(m[1]) * 1024 : 0;
  if (available < connections * 10 * 2 ** 20 + 2 * 2 ** 30) return [];
  return ["--max-threads", String(connections)];
}

function readProc(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/**
 * Opens `connections` connections, does one round trip on each, lets the
 * server settle and reads its memory with them all open and quiet; then
 * closes them. Returns undefined when a connection fails (the load's own
 * figures still follow).
 */
async function holdConnections<T>(
  port: number,
  connections: number,
  size: number,
  read: () => T | undefined,
): Promise<T | undefined> {
  const conns: Deno.TcpConn[] = [];
  const msg = new Uint8Array(size).fill(0x61);
  try {
    // Batches keep the accept queue short for the threaded servers.
    for (let i = 0; i < connections; i += 100) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(100, connections - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port }),
        ),
      );
      conns.push(...batch);
      await Promise.all(batch.map(async (c) => {
        await c.write(msg);
        await readExactly(c, size);
      }));
    }
    await new Promise((r) => setTimeout(r, 500));
    return read();
  } catch {
    return undefined;
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // already closed by the server
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Measures one server at one connection count: a fresh process, idle RSS,
 * its RSS with every connection open and quiet,
 * then the native client's measured window with the server's CPU sampled at
 * its exact edges, then (optionally) a syscall-counting pass.
 *
 * @param server Which server.
 * @param connections Concurrent connections.
 * @param repeat Repeat number, for the record.
 * @param ctx How to measure.
 * @returns The figures.
 * @throws {EchokitError} When the server does not start or the client fails.
 */
export async function measureServer(
  server: BenchServer,
  connections: number,
  repeat: number,
  ctx: CellContext,
): Promise<ServerCell> {
  let proc: ServerProcess;
  try {
    proc = await startBenchServer(server, connections);
  } catch (err) {
    if (err instanceof EchokitError) throw new ServerStartError(err.message, { cause: err });
    throw err;
  }
  const monitor = new ResourceMonitor({ pid: proc.pid, tree: true, refreshMs: 1000 });
  let totalRoundTrips = 0;
  try {
    const cpus = pinnedCpus(ctx.pin);
    if (cpus.server !== undefined) await pinProcess(proc.pid, cpus.server);
    await monitor.start();
    // Let a just-started runtime finish its lazy start-up before "idle".
    await new Promise((r) => setTimeout(r, 300));
    const idle = monitor.read();
    let ready = idle;
    let done = idle;
    let peakRss = idle?.rssBytes ?? 0;
    const track = () => {
      const r = monitor.read();
      if (r && r.rssBytes > peakRss) peakRss = r.rssBytes;
      return r;
    };
    const held = await holdConnections(proc.addr.port, connections, ctx.size, () => track());
    const sampler = setInterval(track, 250);
    let result: NativeClientResult;
    try {
      result = await runNativeClient(ctx.native.client, {
        port: proc.addr.port,
        connections,
        size: ctx.size,
        durationMs: ctx.durationMs,
        cpu: cpus.client,
        onReady: () => {
          ready = track();
        },
        onDone: () => {
          done = track();
        },
      });
    } finally {
      clearInterval(sampler);
    }
    totalRoundTrips += result.round_trips + result.warmup_round_trips;

    let syscallsPerMsg: number | undefined;
    if (ctx.syscalls) {
      // perf -p follows only the threads that exist when it attaches, so
      // attach once every connection (and its thread, in threaded servers) is up.
      let counter: SyscallCounter | undefined;
      const pass = await runNativeClient(ctx.native.client, {
        port: proc.addr.port,
        connections,
        size: ctx.size,
        durationMs: Math.min(1000, ctx.durationMs),
        cpu: cpus.client,
        // Switching perf on and off takes up to a second with many threads:
        // do it while the client holds still, before and after the window.
        onWarm: async () => {
          counter = await SyscallCounter.attach(proc.pid);
          await counter?.enable();
        },
        onDone: () => counter?.disable(),
      });
      const n = await counter?.stop();
      totalRoundTrips += pass.round_trips + pass.warmup_round_trips;
      if (n !== undefined && pass.round_trips > 0) syscallsPerMsg = n / pass.round_trips;
    }

    const cpuSeconds = ready && done
      ? (done.userSeconds + done.systemSeconds) - (ready.userSeconds + ready.systemSeconds)
      : NaN;
    const rssIdle = idle?.rssBytes ?? NaN;
    const status = await proc.stop();
    const selfSyscalls = parseStatsLine(proc.stdout())?.syscalls;
    return {
      server: server.name,
      connections,
      repeat,
      rate: result.rate,
      p50Us: result.p50_us,
      p99Us: result.p99_us,
      serverCpuUsPerMsg: result.round_trips > 0 ? cpuSeconds * 1e6 / result.round_trips : NaN,
      serverCpuPercent: result.duration_s > 0 ? cpuSeconds / result.duration_s * 100 : NaN,
      clientCpuUsPerRt: result.cpu_us_per_rt,
      rssIdleBytes: rssIdle,
      rssPeakBytes: peakRss,
      rssPer1000Bytes: held ? Math.max(0, held.rssBytes - rssIdle) / connections * 1000 : NaN,
      syscallsPerMsg,
      selfSyscallsPerMsg: selfSyscalls !== undefined && status.success && totalRoundTrips > 0
        ? selfSyscalls / totalRoundTrips
        : undefined,
      roundTrips: result.round_trips,
      errors: result.errors + (connections - result.connected),
      warmupComplete: result.warmup_complete,
    };
  } finally {
    monitor.close();
    await proc.stop();
  }
}
