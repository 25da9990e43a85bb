/**
 * `echokit serve`: runs one echo server until SIGINT/SIGTERM.
 *
 * @module
 */
import type { MultiProcessServer } from "../servers/multi_process.ts";
import { parseOffload } from "../servers/offload.ts";
import { checkEngine, checkModeOptions, serve } from "../servers/serve.ts";
import { formatPrespawn, formatStatsLine } from "../servers/stats_line.ts";
import {
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_THREADS,
  type EchoServer,
  type Mode,
  MODE_SUMMARIES,
  MODES,
} from "../servers/types.ts";
import { MAX_BATCH_WAIT_US } from "../servers/uring.ts";
import { parseWork } from "../servers/work.ts";
import { UsageError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { raiseFileLimit } from "../servers/os/socket.ts";
import {
  formatStatsInterval,
  type ServerStatsSeries,
  startStatsInterval,
  type StatsInterval,
} from "../servers/stats_interval.ts";
import {
  checkOutputPath,
  type Command,
  type FlagValues,
  numberFlag,
  oneOf,
  type OptionSpecs,
  parseDuration,
  parseFlags,
  parseHost,
} from "./args.ts";

const HELP = `Usage: echokit serve [--mode MODE] [--host HOST] [--port PORT] [options]

Runs one TCP echo server. Prints one line when listening:
  listening HOST:PORT mode=MODE pid=PID
and on SIGINT/SIGTERM stops, prints final stats and exits 0.

Modes:
${MODES.map((m) => `  ${m.padEnd(12)} ${MODE_SUMMARIES[m]}`).join("\n")}

Options:
  --mode MODE          server model (default: stream)
  --host HOST          address to bind (default: 127.0.0.1)
  --port PORT          port to bind; 0 lets the OS pick (default: 7000)
  --backlog N          listen backlog (default: 1024)
  --max-buffer BYTES   bytes buffered per connection before reading pauses (default: 262144)
  --max-connections N  connections served at once; more are accepted and closed (default: 16384)
  --idle-timeout T     close connections silent for T (e.g. 30s, 500ms; 0 = never; default: 300s)
  --backend B          nonblocking mode: epoll or poll (default: epoll on Linux)
  --engine E           stream and protocol modes: loop (echokit's own event loop), or
                       deno (stream: Deno.Conn) / node (protocol: node:net)
                       (default: loop; deno/node without FFI or with --work/--offload)
  --batch-wait T       uring mode: how long a wait may hold out for a batch of completions
                       (a quarter of the connections active in the last ms) before taking
                       what has come; a reply may go out up to T later (e.g. 100us, 0.2ms;
                       0 = off: wake at every completion; default: 50us; Linux 6.12)
  --max-threads N      blocking mode: most threads at once (default: 128)
  --prespawn N         blocking mode: threads started before accepting (default: 0)
  --work KIND:ARG      work per message (one read chunk) before echoing it
                       (not in uring mode: its loop has no timers or inline work yet):
                         sleep:10ms  wait without CPU (a timer in async modes)
                         block:10ms  a blocking wait, even in an event loop
                         cpu:1ms     busy computation (calibrated at start)
                         file:PATH   read the whole file
  --offload POOL       stream and protocol only: run each message's work on a pool of
                       threads[:N] (Workers; default N = min(32, CPUs+4)) or
                       processes[:N] (child processes; default N = CPUs)
  --processes N        N server processes share the port via SO_REUSEPORT (Linux)
  --reuse-port         set SO_REUSEPORT on the listener (Linux)
  --stats-interval S   every S seconds print the server's own CPU and memory:
                         stats-interval time=ISO cpu=P% rss=NMiB vsz=NMiB accepted=… active=…
                       (use it when the load comes from other hosts)
  --stats-json FILE    at exit write that series as JSON (sampled every 1 s without --stats-interval)
  -h, --help           show this help`;

/** The flags of `echokit serve`, as {@linkcode parseFlags} takes them. */
export const SERVE_FLAGS: OptionSpecs = {
  mode: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  backlog: { type: "string" },
  "max-buffer": { type: "string" },
  "max-connections": { type: "string" },
  "idle-timeout": { type: "string" },
  backend: { type: "string" },
  engine: { type: "string" },
  "batch-wait": { type: "string" },
  "max-threads": { type: "string" },
  prespawn: { type: "string" },
  work: { type: "string" },
  offload: { type: "string" },
  processes: { type: "string" },
  "reuse-port": { type: "boolean" },
  "stats-interval": { type: "string" },
  "stats-json": { type: "string" },
};

/** The `serve` subcommand. */
export const serveCommand: Command = {
  name: "serve",
  summary: "run one echo server (stream, protocol, blocking, nonblocking, uring)",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, SERVE_FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const mode = oneOf("--mode", String(values.mode ?? "stream"), MODES);
    const hostname = parseHost("--host", String(values.host ?? "127.0.0.1"));
    const maxConnections = numberFlag(values, "max-connections", { min: 1, max: 1 << 24 }) ??
      DEFAULT_MAX_CONNECTIONS;
    const idleTimeout = values["idle-timeout"] === undefined
      ? DEFAULT_IDLE_TIMEOUT
      : idleTimeoutFlag(String(values["idle-timeout"]));
    checkModeFlags(mode, values);
    const maxBuffer = numberFlag(values, "max-buffer", { min: 1, max: 1 << 30 }) ??
      DEFAULT_MAX_BUFFER;
    const files = raiseFileLimit();
    const statsIntervalMs = statsIntervalFlag(values["stats-interval"]);
    const statsJson = values["stats-json"] === undefined ? undefined : String(values["stats-json"]);
    if (statsJson !== undefined) checkOutputPath("--stats-json", statsJson);
    const processes = numberFlag(values, "processes", { min: 1, max: 256 });
    if ((processes ?? 1) > 1 && (statsIntervalMs !== undefined || statsJson !== undefined)) {
      throw new UsageError(
        "--stats-interval and --stats-json sample this process only, and with --processes its children do the serving (sample the process tree with load or compare instead)",
      );
    }
    const server: EchoServer = await serve({
      mode,
      hostname,
      port: numberFlag(values, "port", { min: 0, max: 65535 }) ?? 7000,
      backlog: numberFlag(values, "backlog", { min: 1, max: 1 << 20 }),
      maxBuffer,
      maxConnections,
      idleTimeout,
      backend: values.backend === undefined
        ? undefined
        : oneOf("--backend", String(values.backend), ["epoll", "poll"] as const),
      engine: checkEngine(mode, values.engine === undefined ? undefined : String(values.engine)),
      batchWaitUs: batchWaitFlag(values["batch-wait"]),
      maxThreads: numberFlag(values, "max-threads", { min: 1, max: 1 << 20 }),
      prespawn: numberFlag(values, "prespawn", { min: 0, max: 1 << 20 }),
      work: values.work === undefined ? undefined : parseWork(String(values.work)),
      offload: values.offload === undefined ? undefined : parseOffload(String(values.offload)),
      processes,
      reusePort: values["reuse-port"] === true,
    });
    console.error(
      `limits: max-connections=${maxConnections} idle-timeout=${
        idleTimeout ? `${idleTimeout / 1000}s` : "off"
      } max-buffer=${maxBuffer}B${files ? ` open-files=${files.soft}` : ""}`,
    );
    for (const note of server.notes ?? []) console.error(`note: ${note}`);
    const prespawn = formatPrespawn(server.stats());
    if (prespawn) console.error(`prespawn: ${prespawn}, before listening`);
    if (!isLoopback(hostname)) {
      console.error(
        `warning: binding ${hostname}: this echo server is reachable from the network`,
      );
    }
    // Handlers go in before the listening line: whoever reads that line may
    // send SIGTERM at once, and it must stop the server cleanly (exit 0).
    const stop = Promise.withResolvers<string>();
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    const handlers = signals.map((sig) => {
      const handler = () => stop.resolve(sig);
      Deno.addSignalListener(sig, handler);
      return [sig, handler] as const;
    });
    console.log(
      `listening ${server.addr.hostname}:${server.addr.port} mode=${mode} pid=${Deno.pid}`,
    );

    const startTime = Date.now();
    let monitor: StatsInterval | undefined;
    if (statsIntervalMs !== undefined || statsJson !== undefined) {
      monitor = startStatsInterval({
        intervalMs: statsIntervalMs ?? 1000,
        stats: () => server.stats(),
        onSample: statsIntervalMs === undefined
          ? undefined
          : (sample) => console.log(formatStatsInterval(sample)),
      });
    }

    const stopped = await Promise.race([stop.promise, server.closed.then(() => undefined)]);
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
    await server.close();
    const samples = monitor?.stop();
    if ("processStats" in server) {
      for (const { pid, stats } of (server as MultiProcessServer).processStats()) {
        console.error(`process pid=${pid} ${stats ? formatStatsLine(mode, stats) : "no stats"}`);
      }
    }
    console.log(formatStatsLine(mode, server.stats()));
    if (statsJson !== undefined && samples) {
      const series: ServerStatsSeries = {
        schema: "echokit/serve-stats",
        schemaVersion: 1,
        mode,
        addr: server.addr,
        pid: Deno.pid,
        hostname: Deno.hostname(),
        intervalMs: statsIntervalMs ?? 1000,
        startTime,
        endTime: Date.now(),
        samples,
      };
      await writeFileAtomic(statsJson, JSON.stringify(series, null, 2) + "\n", {
        what: "--stats-json",
      });
    }
    const failure = (server as Partial<MultiProcessServer>).failure;
    if (stopped === undefined && failure) {
      console.error(`error: ${failure}`);
      return 1;
    }
    return 0;
  },
};

/** Parses --idle-timeout: 0 (off) or 1 ms up to what a timer can hold (~24 days). */
function idleTimeoutFlag(raw: string): number {
  const ms = parseDuration("--idle-timeout", raw);
  if (ms !== 0 && (ms < 1 || ms > 2 ** 31 - 1)) {
    throw new UsageError(
      `Invalid --idle-timeout "${raw}" (use a duration from 1ms to 24d, or 0 to turn it off)`,
    );
  }
  return Math.round(ms);
}

/** Flags that only one mode reads are an error with any other mode, not silently ignored. */
function checkModeFlags(mode: Mode, values: FlagValues): void {
  checkModeOptions(mode, (o) => values[o.flag] !== undefined);
  for (const flag of ["work", "offload"]) {
    if (values[flag] !== undefined && mode === "uring") {
      throw new UsageError(
        `Option --${flag} is not available in --mode uring (use --mode ${
          flag === "work" ? "nonblocking" : "stream or protocol"
        })`,
      );
    }
  }
  const maxThreads = numberFlag(values, "max-threads", { min: 1, max: 1 << 20 }) ??
    DEFAULT_MAX_THREADS;
  const prespawn = numberFlag(values, "prespawn", { min: 0, max: 1 << 20 }) ?? 0;
  if (prespawn > maxThreads) {
    throw new UsageError(
      `Invalid --prespawn "${prespawn}" (use at most --max-threads, ${maxThreads})`,
    );
  }
}

function batchWaitFlag(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const us = Math.round(parseDuration("--batch-wait", String(raw), "ms") * 1000);
  if (us > MAX_BATCH_WAIT_US) {
    throw new UsageError(
      `Invalid --batch-wait "${raw}" (use 0 to ${MAX_BATCH_WAIT_US / 1000}ms, e.g. 50us)`,
    );
  }
  return us;
}

function statsIntervalFlag(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const ms = parseDuration("--stats-interval", String(raw), "s");
  // Past a day is a typo; past ~24 days setInterval overflows and fires every millisecond.
  if (ms < 10 || ms > 86_400_000) {
    throw new UsageError(`Invalid --stats-interval "${raw}" (use 0.01 to 86400 seconds)`);
  }
  return ms;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
