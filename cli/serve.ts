/**
 * `echokit serve`: runs one echo server until SIGINT/SIGTERM.
 *
 * @module
 */
import { serve } from "../servers/serve.ts";
import {
  DEFAULT_MAX_THREADS,
  type EchoServer,
  type Mode,
  MODE_SUMMARIES,
  MODES,
  type ServerStats,
} from "../servers/types.ts";
import { type Command, numberFlag, oneOf, parseFlags } from "./args.ts";

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
  --backend B          nonblocking mode: epoll or poll (default: epoll on Linux)
  --max-threads N      blocking mode: most threads at once (default: 128)
  --prespawn N         blocking mode: threads started before accepting (default: 0)
  -h, --help           show this help`;

/** Formats a stats snapshot as one `key=value` line. */
export function formatStats(mode: Mode, stats: ServerStats): string {
  const parts = [`stats mode=${mode}`];
  for (const [k, v] of Object.entries(stats)) if (v !== undefined) parts.push(`${k}=${v}`);
  return parts.join(" ");
}

/** The `serve` subcommand. */
export const serveCommand: Command = {
  name: "serve",
  summary: "run one echo server (stream, protocol, blocking, nonblocking)",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, {
      mode: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      backlog: { type: "string" },
      "max-buffer": { type: "string" },
      backend: { type: "string" },
      "max-threads": { type: "string" },
      prespawn: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const mode = oneOf("--mode", String(values.mode ?? "stream"), MODES);
    const hostname = String(values.host ?? "127.0.0.1");
    const server: EchoServer = await serve({
      mode,
      hostname,
      port: numberFlag(values, "port", { min: 0, max: 65535 }) ?? 7000,
      backlog: numberFlag(values, "backlog", { min: 1, max: 1 << 20 }),
      maxBuffer: numberFlag(values, "max-buffer", { min: 1, max: 1 << 30 }),
      backend: values.backend === undefined
        ? undefined
        : oneOf("--backend", String(values.backend), ["epoll", "poll"] as const),
      maxThreads: numberFlag(values, "max-threads", { min: 1, max: 1 << 20 }),
      prespawn: numberFlag(values, "prespawn", { min: 0, max: 1 << 20 }),
    });
    if (!isLoopback(hostname)) {
      console.error(
        `warning: binding ${hostname}: this echo server is reachable from the network`,
      );
    }
    if (mode === "blocking") {
      console.error(
        `blocking: at most ${values["max-threads"] ?? DEFAULT_MAX_THREADS} threads; ` +
          "further connections wait in the backlog",
      );
    }
    // Listen for signals before announcing the port: whoever reads the
    // listening line may signal us at once.
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
    await Promise.race([stop.promise, server.closed]);
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
    await server.close();
    console.log(formatStats(mode, server.stats()));
    return 0;
  },
};

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
