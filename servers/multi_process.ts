/**
 * Several server processes on one port (`serve --processes N`), as gunicorn
 * or API-Hour workers run in production: each child is a whole `echokit
 * serve` listening with `SO_REUSEPORT`, and the Linux kernel spreads incoming
 * connections over their listeners (by a hash of the connection's addresses).
 *
 * This process is the parent: it starts the children, reports one address,
 * stops them on `close()`, and sums their final counters. Load generators
 * sample its process tree, so every child's CPU and memory is counted.
 *
 * @module
 */
import { parseStatsLine } from "./stats_line.ts";
import { emptyStats } from "./types.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { type ServerProcess, startServerProcess } from "./child.ts";
import { formatOffload } from "./offload.ts";
import type { EchoServer, ServeOptions, ServerStats } from "./types.ts";
import { formatWork } from "./work.ts";

/** One child's pid and, once it stopped, its final counters. */
export interface ProcessStats {
  /** The child's process id. */
  pid: number;
  /** Its final counters; undefined until it has stopped (or if it printed none). */
  stats: ServerStats | undefined;
}

/** A server made of several processes sharing one port. */
export interface MultiProcessServer extends EchoServer {
  /** The children's process ids. */
  readonly pids: readonly number[];
  /**
   * Each child's counters. Children report them when they stop, so before
   * `close()` resolves they are undefined (and `stats()` is all zeros).
   *
   * @returns One entry per child, in start order.
   */
  processStats(): readonly ProcessStats[];
  /**
   * Why the server stopped on its own (a child exited), with the tail of its
   * stderr; undefined while all is well or after a requested `close()`.
   */
  readonly failure: string | undefined;
}

/**
 * Starts `options.processes` server processes sharing one port.
 *
 * @param options The server's options; every child gets the same (its own
 *   offload pool too). `port` 0 lets the first child pick the port.
 * @returns The parent's view of them.
 * @throws {EchokitError} Where `SO_REUSEPORT` cannot spread connections, or when a child fails.
 *
 * @example Usage
 * ```ts ignore
 * import { serveProcesses } from "./multi_process.ts";
 * const server = await serveProcesses({ mode: "protocol", processes: 2 });
 * console.log(server.addr.port, server.pids);
 * await server.close();
 * ```
 */
export async function serveProcesses(options: ServeOptions): Promise<MultiProcessServer> {
  const count = options.processes ?? 1;
  checkReusePort(`--processes ${count}`, false);
  const hostname = options.hostname ?? "127.0.0.1";
  const args = toServeArgs(options);
  const children: ServerProcess[] = [];
  const start = (port: number) =>
    startServerProcess({ mode: options.mode, hostname, port, args, name: `${options.mode}` });
  try {
    // The first child binds (port 0: the OS picks), the rest join its port.
    children.push(await start(options.port ?? 0));
    const port = children[0].addr.port;
    const rest = await Promise.allSettled(Array.from({ length: count - 1 }, () => start(port)));
    for (const r of rest) if (r.status === "fulfilled") children.push(r.value);
    const failed = rest.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (err) {
    await Promise.allSettled(children.map((c) => c.stop()));
    throw err;
  }
  // A child writes its notes to stderr before its listening line to stdout;
  // give the stderr pipe a moment to be read so the notes are complete.
  await new Promise((r) => setTimeout(r, 50));
  const notes = [
    ...childNotes(children[0].stderr()),
    `${count} processes share port ${children[0].addr.port} (SO_REUSEPORT): pids ${
      children.map((c) => c.pid).join(", ")
    }`,
  ];

  let closing = false;
  let died = 0;
  let failure: string | undefined;
  const closed = Promise.withResolvers<void>();
  let closeCall: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closeCall ??= (async () => {
      closing = true;
      await Promise.allSettled(children.map((c) => c.stop()));
      closed.resolve();
    })();
    return closeCall;
  };
  // One child dying takes the server down: a half-served port is not a
  // measurement anyone wants. It is counted in `errors`.
  for (const child of children) {
    child.exited.then((status) => {
      if (closing) return;
      died++;
      const tail = child.stderr().trim().split("\n").slice(-3).join("\n");
      failure = `Server process ${child.pid} exited with code ${status.code}${
        tail ? `:\n${tail}` : ""
      }`;
      close();
    });
  }

  const processStats = (): ProcessStats[] =>
    children.map((c) => ({ pid: c.pid, stats: parseStatsLine(c.stdout()) }));

  return {
    mode: options.mode,
    addr: children[0].addr,
    pids: children.map((c) => c.pid),
    notes,
    processStats,
    get failure() {
      return failure;
    },
    stats(): ServerStats {
      const total = sumStats(processStats().map((p) => p.stats));
      return { ...total, errors: total.errors + died, processes: count };
    },
    close,
    closed: closed.promise,
  };
}

/**
 * The `serve` flags that reproduce a server's options in a child.
 *
 * @param options The server's options.
 * @returns Flags, `--reuse-port` included; mode, host, port and `processes` left out.
 *
 * @example Usage
 * ```ts
 * import { toServeArgs } from "./multi_process.ts";
 * console.log(toServeArgs({ mode: "stream", work: { kind: "sleep", ms: 10 } }));
 * // ["--work", "sleep:10ms", "--reuse-port"]
 * ```
 */
export function toServeArgs(options: ServeOptions): string[] {
  const args: string[] = [];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };
  add("--backlog", options.backlog);
  add("--max-buffer", options.maxBuffer);
  add("--max-connections", options.maxConnections);
  add("--idle-timeout", options.idleTimeout === undefined ? undefined : `${options.idleTimeout}ms`);
  add("--backend", options.backend);
  add("--engine", options.engine);
  add("--max-threads", options.maxThreads);
  add("--prespawn", options.prespawn);
  add("--batch-wait", options.batchWaitUs === undefined ? undefined : `${options.batchWaitUs}us`);
  add("--work", options.work && formatWork(options.work));
  add("--offload", options.offload && formatOffload(options.offload));
  args.push("--reuse-port");
  return args;
}

// Maxima stay maxima when processes are summed.
const MAX_FIELDS: ReadonlySet<string> = new Set(["offloadQueueMax"]);

function sumStats(all: (ServerStats | undefined)[]): ServerStats {
  const total: Record<string, number> = { ...emptyStats() };
  for (const stats of all) {
    for (const [key, value] of Object.entries(stats ?? {})) {
      if (typeof value !== "number") continue;
      total[key] = MAX_FIELDS.has(key)
        ? Math.max(total[key] ?? 0, value)
        : (total[key] ?? 0) + value;
    }
  }
  if ("offloadWaitMs" in total) total.offloadWaitMs = Math.round(total.offloadWaitMs * 10) / 10;
  return total as unknown as ServerStats;
}

function childNotes(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("note: ")).map((l) => l.slice(6));
}
