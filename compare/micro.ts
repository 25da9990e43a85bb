/**
 * `compare --micro`: a quick sanity table of single-connection round-trip
 * latency per server, measured by tinybench (mean, p99, ops/s and the
 * relative margin of error). One connection, one message in flight: the
 * cost of one trip through each model, not its behaviour under load.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import { DEFAULT_MESSAGE } from "../loadgen/types.ts";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";
import { roundTrip } from "../servers/testing.ts";
import type { Mode } from "../servers/types.ts";
import { missingRuntime, type PeerSpec } from "./peers.ts";
import type { MicroResult } from "./types.ts";

/** Options for {@linkcode runMicro}. */
export interface MicroOptions {
  /** Our modes to measure. */
  modes: readonly Mode[];
  /** External servers to measure. @default {[]} */
  peers?: readonly PeerSpec[];
  /** Time tinybench spends per server, ms. @default {1000} */
  timeMs?: number;
  /** Round trips before measuring, ms of warm-up. @default {200} */
  warmupMs?: number;
  /** The request. @default {DEFAULT_MESSAGE (64 bytes)} */
  message?: string;
  /** Receives each server's name as it starts. */
  onServer?: (name: string) => void;
}

/**
 * Measures one connection's round-trip latency against each server.
 *
 * @param options Servers and how long to measure each.
 * @returns One result per server (skipped ones say why).
 *
 * @example Usage
 * ```ts ignore
 * import { runMicro } from "./micro.ts";
 * const [r] = await runMicro({ modes: ["stream"], timeMs: 200 });
 * console.log(r.meanUs, r.rmePercent);
 * ```
 */
export async function runMicro(options: MicroOptions): Promise<MicroResult[]> {
  const message = new TextEncoder().encode(options.message ?? DEFAULT_MESSAGE);
  const targets = [
    ...options.modes.map((m) => ({ name: m as string, mode: m, command: undefined })),
    ...(options.peers ?? []).map((p) => ({ name: p.name, mode: undefined, command: p.command })),
  ];
  const results: MicroResult[] = [];
  for (const target of targets) {
    options.onServer?.(target.name);
    if (target.command) {
      const why = missingRuntime({ name: target.name, command: target.command });
      if (why) {
        results.push({ server: target.name, skipped: why });
        continue;
      }
    }
    let server: ServerProcess;
    try {
      server = await startServerProcess(
        target.command ? { command: target.command, name: target.name } : { mode: target.mode },
      );
    } catch (err) {
      if (!(err instanceof EchokitError)) throw err;
      const lines = err.message.split("\n").filter(Boolean);
      const own = lines.findLast((l) => l.startsWith("error:"));
      results.push({ server: target.name, skipped: own?.replace(/^error:\s*/, "") ?? lines[0] });
      continue;
    }
    let conn: Deno.TcpConn | undefined;
    try {
      conn = await Deno.connect({ hostname: server.addr.hostname, port: server.addr.port });
      conn.setNoDelay(true);
      const c = conn;
      // Loaded on use, as pidtree and hdr-histogram-js are: every echokit
      // process imports this module through mod.ts.
      const { Bench } = await import("tinybench");
      const bench = new Bench({
        time: options.timeMs ?? 1000,
        warmupTime: options.warmupMs ?? 200,
        throws: true,
      });
      bench.add(target.name, async () => {
        await roundTrip(c, message);
      });
      await bench.run();
      const r = bench.tasks[0].result;
      if (r.state === "completed" || r.state === "aborted-with-statistics") {
        results.push({
          server: target.name,
          meanUs: r.latency.mean * 1000,
          p99Us: r.latency.p99 * 1000,
          opsPerSecond: r.throughput.mean,
          rmePercent: r.latency.rme,
          samples: r.latency.samplesCount,
        });
      } else {
        results.push({ server: target.name, skipped: `benchmark ${r.state}` });
      }
    } catch (err) {
      results.push({
        server: target.name,
        skipped: `round trip failed: ${err instanceof Error ? err.message : err}`,
      });
    } finally {
      try {
        conn?.close();
      } catch {
        // Already closed by the failure.
      }
      await server.stop();
    }
  }
  return results;
}
