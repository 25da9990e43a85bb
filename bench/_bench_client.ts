/**
 * Runs the native ping-pong client (`bench/native/c_epoll_client.c`) and
 * reports the edges of its measured window as they happen, so the caller can
 * sample the server exactly over that window.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";

/** The client's JSON line (`c_epoll_client` prints exactly these fields). */
export interface NativeClientResult {
  /** Connections asked for. */
  connections: number;
  /** Connections that connected. */
  connected: number;
  /** Connections still open at the end (the rest failed). */
  open_at_end: number;
  /** Message size in bytes. */
  size: number;
  /** Length of the measured window, seconds. */
  duration_s: number;
  /** Round trips completed in the measured window. */
  round_trips: number;
  /** Round trips completed before it (connect and warm-up). */
  warmup_round_trips: number;
  /** Round trips per second in the window. */
  rate: number;
  /** Mean latency, µs. */
  mean_us: number;
  /** Median latency, µs. */
  p50_us: number;
  /** 90th percentile latency, µs. */
  p90_us: number;
  /** 99th percentile latency, µs. */
  p99_us: number;
  /** Highest latency, µs. */
  max_us: number;
  /** The client's own CPU per round trip, µs (getrusage). */
  cpu_us_per_rt: number;
  /** The client's own CPU, % of one core. */
  cpu_pct: number;
  /** Connections lost (refused, reset, early EOF, wrong echo). */
  errors: number;
  /** Echoes that did not match what was sent. */
  mismatches: number;
  /** False when some connection never completed a round trip before the window began. */
  warmup_complete: boolean;
}

/** Options for {@linkcode runNativeClient}. */
export interface NativeClientOptions {
  /** Server port on 127.0.0.1. */
  port: number;
  /** Concurrent connections. */
  connections: number;
  /** Message size, bytes. @default {64} */
  size?: number;
  /** Length of the measured window, ms. */
  durationMs: number;
  /** Least warm-up before the window, ms. @default {300} */
  warmupMs?: number;
  /** Longest wait for every connection to complete one round trip, s. @default {60} */
  maxWarmupS?: number;
  /** CPU to pin the client to (taskset); none when undefined. */
  cpu?: number;
  /**
   * Called once every connection is warm, before the window opens. Giving it
   * makes the client hold still twice: until this resolves, and after the
   * window until `onDone` resolves, so a counter can be switched on and off
   * while no message moves.
   */
  onWarm?: () => void | Promise<void>;
  /** Called as the measured window opens. */
  onReady?: () => void | Promise<void>;
  /** Called as it closes (before the client disconnects). */
  onDone?: () => void | Promise<void>;
}

/**
 * Runs the native client once against 127.0.0.1.
 *
 * @param client Path of the compiled `c_epoll_client`.
 * @param options Load and window.
 * @returns Its parsed JSON line.
 * @throws {EchokitError} When it fails, prints no JSON, or overruns its time.
 */
export async function runNativeClient(
  client: string,
  options: NativeClientOptions,
): Promise<NativeClientResult> {
  const maxWarmupS = options.maxWarmupS ?? 60;
  const args = [
    "-p",
    String(options.port),
    "-c",
    String(options.connections),
    "-s",
    String(options.size ?? 64),
    "-d",
    String(options.durationMs / 1000),
    "-w",
    String(options.warmupMs ?? 300),
    "-W",
    String(maxWarmupS),
    "-P",
    ...(options.onWarm ? ["-S"] : []),
  ];
  const argv = options.cpu === undefined
    ? [client, ...args]
    : ["taskset", "-c", String(options.cpu), client, ...args];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: options.onWarm ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = options.onWarm ? child.stdin.getWriter() : undefined;
  // A stuck server must not hang the benchmark.
  const limit = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }, options.durationMs + maxWarmupS * 1000 + 30_000);
  let errText = "";
  const phases = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stderr) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === "warm") {
          await options.onWarm?.();
          await stdin?.write(new TextEncoder().encode("go\n"));
        } else if (line === "ready") await options.onReady?.();
        else if (line === "done") {
          await options.onDone?.();
          await stdin?.write(new TextEncoder().encode("go\n"));
        } else errText += line + "\n";
      }
    }
  })();
  const [stdout] = await Promise.all([new Response(child.stdout).text(), phases]);
  const status = await child.status;
  clearTimeout(limit);
  await stdin?.close().catch(() => {});
  const line = stdout.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) {
    throw new EchokitError(
      `The native client failed (exit ${status.code}${status.signal ? `, ${status.signal}` : ""})${
        errText.trim() ? `: ${errText.trim()}` : ""
      }`,
    );
  }
  return JSON.parse(line) as NativeClientResult;
}
