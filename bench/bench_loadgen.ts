/**
 * The load generator's own benchmark: how many samples/s it drives and how
 * much CPU it spends per sample, against a reference Python `selectors` echo
 * server and against echokit's fastest server, 100 connections, 64-byte
 * messages. A benchmark, not a test: it prints figures and asserts nothing.
 *
 * Run: `deno run -A bench/bench_loadgen.ts [--seconds 5] [--engines poll,uring,async]
 *       [--servers py_selectors,nonblocking] [--json FILE]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";
import type { Mode } from "../servers/types.ts";
import type { EngineName } from "../loadgen/_engine_types.ts";
import { runLoad } from "../loadgen/run.ts";
import { DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, type Plan } from "../loadgen/types.ts";

/** One benchmark figure. */
export interface LoadgenBenchRow {
  /** Server name (`py_selectors` or an echokit mode). */
  server: string;
  /** Generator engine. */
  engine: EngineName;
  /** Samples per second (warm-up excluded). */
  samplesPerSecond: number;
  /** Generator CPU per sample, µs (all its threads). */
  generatorCpuUsPerSample: number;
  /** Server CPU per sample, µs. */
  serverCpuUsPerSample?: number;
  /** Median latency, µs. */
  p50Us: number;
  /** 99th percentile latency, µs. */
  p99Us: number;
  /** Failed samples. */
  errors: number;
}

const PY_SERVER = fileURLToPath(new URL("../fixtures/peers/py_selectors_echo.py", import.meta.url));

function benchPlan(seconds: number): Plan {
  return {
    name: "loadgen-bench",
    threads: 100,
    loops: -1,
    duration: seconds + 1,
    rampUp: 0,
    message: "",
    messageSize: 64,
    connectTimeout: DEFAULT_CONNECT_TIMEOUT,
    responseTimeout: DEFAULT_RESPONSE_TIMEOUT,
    reuseConnection: true,
    onError: "continue",
  };
}

async function startServer(name: string): Promise<ServerProcess> {
  if (name === "py_selectors") {
    return await startServerProcess({ command: ["python3", PY_SERVER, "{port}"], name });
  }
  return await startServerProcess({ mode: name as Mode });
}

/**
 * Runs the generator against one server with one engine.
 *
 * @param server `py_selectors` or an echokit mode.
 * @param engine The engine.
 * @param seconds Measured seconds (after a 1 s warm-up).
 * @returns The figures.
 */
export async function benchOnce(
  server: string,
  engine: EngineName,
  seconds: number,
): Promise<LoadgenBenchRow> {
  const proc = await startServer(server);
  try {
    const r = await runLoad({
      plan: benchPlan(seconds),
      hostname: proc.addr.hostname,
      port: proc.addr.port,
      pid: proc.pid,
      engine,
      warmupSeconds: 1,
      intervalSeconds: 3600,
    });
    return {
      server,
      engine,
      samplesPerSecond: r.rate,
      generatorCpuUsPerSample: r.generator.cpuUsPerSample,
      serverCpuUsPerSample: r.server?.cpuUsPerSample,
      p50Us: r.latency.p50Us,
      p99Us: r.latency.p99Us,
      errors: r.errors,
    };
  } finally {
    await proc.stop();
  }
}

async function commit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim() || "unknown";
  } catch {
    return "unknown";
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "5" },
      engines: { type: "string", default: "poll,uring,async" },
      servers: { type: "string", default: "py_selectors,nonblocking,stream" },
      json: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const rows: LoadgenBenchRow[] = [];
  console.log(
    `load generator benchmark: 100 connections, 64-byte messages, ${seconds} s (+1 s warm-up)`,
  );
  console.log(`command: deno run -A bench/bench_loadgen.ts ${Deno.args.join(" ")}`.trim());
  console.log(`commit: ${await commit()}  deno ${Deno.version.deno}  ${Deno.build.target}`);
  console.log(
    "server        engine  samples/s  gen µs/sample  server µs/sample  p50 µs  p99 µs  errors",
  );
  for (const server of values.servers!.split(",")) {
    for (const engine of values.engines!.split(",") as EngineName[]) {
      try {
        const row = await benchOnce(server, engine, seconds);
        rows.push(row);
        console.log(
          `${server.padEnd(13)} ${engine.padEnd(6)} ${
            row.samplesPerSecond.toFixed(0).padStart(10)
          } ${row.generatorCpuUsPerSample.toFixed(1).padStart(14)} ${
            (row.serverCpuUsPerSample?.toFixed(1) ?? "n/a").padStart(17)
          } ${String(row.p50Us).padStart(7)} ${String(row.p99Us).padStart(7)} ${
            String(row.errors).padStart(7)
          }`,
        );
      } catch (err) {
        console.log(`${server.padEnd(13)} ${engine.padEnd(6)} failed: ${(err as Error).message}`);
      }
    }
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(rows, null, 2) + "\n");
}
