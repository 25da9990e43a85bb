/**
 * The one interface every echo server model implements.
 *
 * @module
 */
import type { Work } from "./work.ts";

/** The I/O concurrency models echokit serves: four seed models, then `uring`. */
export type Mode = "stream" | "protocol" | "blocking" | "nonblocking" | "uring";

/** Every mode, in the order tables show them. */
export const MODES: readonly Mode[] = ["stream", "protocol", "blocking", "nonblocking", "uring"];

/**
 * A server engine of the modes that offer one: `loop`, echokit's own event
 * loop; `deno`, `Deno.Conn` (stream); `node`, `node:net` (protocol).
 */
export type ServerEngine = "loop" | "deno" | "node";

/** Every server engine, for `compare --engines`. */
export const SERVER_ENGINES: readonly ServerEngine[] = ["loop", "deno", "node"];

/** The engines of the modes that offer a choice (`--engine`); the first is the default. */
export const MODE_ENGINES: Readonly<Partial<Record<Mode, readonly ServerEngine[]>>> = {
  stream: ["loop", "deno"],
  protocol: ["loop", "node"],
};

/** What each mode demonstrates, in one line (shown by `serve --help` and the README). */
export const MODE_SUMMARIES: Readonly<Record<Mode, string>> = {
  stream:
    "async/await reads and writes per connection, on echokit's own loop or Deno.Conn (asyncio streams)",
  protocol: "Protocol/Transport callbacks on echokit's own loop, or node:net (asyncio.Protocol)",
  blocking: "blocking libc sockets, one thread (Worker) per connection (FFI)",
  nonblocking: "one thread running an epoll/poll loop over non-blocking sockets (FFI; selectors)",
  uring:
    "one thread, one io_uring: the kernel does the reads and writes, one syscall per loop turn (FFI; Linux)",
};

/** Which pool to offload to, and how big. */
export interface Offload {
  /** Worker threads in the server process, or child processes. */
  kind: "threads" | "processes";
  /** Members in the pool. */
  size: number;
}

/** Options every mode accepts. */
export interface ServeOptions {
  /** Which model to run. */
  mode: Mode;
  /**
   * Address to bind. Anything but loopback exposes an echo server to the network.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port to bind; 0 asks the OS for a free one (read it back from `addr.port`).
   *
   * @default {0}
   */
  port?: number;
  /**
   * Listen backlog: connections the kernel queues before `accept`.
   *
   * @default {1024}
   */
  backlog?: number;
  /**
   * Bound on bytes buffered per connection before the server stops reading it
   * (a client that never reads must not grow server memory without limit).
   *
   * @default {262144}
   */
  maxBuffer?: number;
  /**
   * Most connections served at once; beyond it a new connection is accepted
   * and closed at once, and counted as `rejected`. In the `blocking` mode each
   * connection holds a thread, so this binds only at or below `maxThreads`
   * (above it, the pool fills first and connections wait in the backlog).
   *
   * @default {16384}
   */
  maxConnections?: number;
  /**
   * Milliseconds a connection may stay silent before the server closes it
   * (counted as `timedOut`); 0 turns the timeout off.
   *
   * @default {300000}
   */
  idleTimeout?: number;
  /**
   * Poll backend for the `nonblocking` mode.
   *
   * @default {"epoll" on Linux, "poll" elsewhere}
   */
  backend?: "epoll" | "poll";
  /**
   * Engine of the `protocol` and `stream` modes: `loop`, echokit's own event
   * loop over libc (FFI); `node` (protocol), Deno's `node:net` server; `deno`
   * (stream), `Deno.Conn`.
   *
   * @default {"loop"; "node" or "deno" without FFI, or with work or offload}
   */
  engine?: ServerEngine;
  /**
   * Most threads the `blocking` mode runs at once; further connections wait in
   * the backlog, as with a bounded thread pool. Each thread is a Worker (a V8
   * isolate): about 8 MB and 45 ms of CPU to start.
   *
   * @default {128}
   */
  maxThreads?: number;
  /**
   * Threads the `blocking` mode starts before accepting.
   *
   * @default {0}
   */
  prespawn?: number;
  /**
   * Work the handler does per message (one read chunk) before echoing it:
   * sleep, a blocking wait, CPU burn or a file read.
   *
   * @default {none: a bare echo}
   */
  work?: Work;
  /**
   * Run each message's work on a pool of threads (Workers) or child processes
   * instead of on the connection's own loop or thread.
   *
   * @default {none: the work runs inline}
   */
  offload?: Offload;
  /**
   * `uring` mode: how long one wait for completions may hold out for a
   * batch (a quarter of the connections active in the last millisecond)
   * before it settles for those that have arrived, µs. Batches spare the
   * loop a turn, and the client a wake-up, per message; a message may be
   * answered up to this much later. 0: every wait returns at the first
   * completion. Linux 6.12 (`IORING_FEAT_MIN_TIMEOUT`); older kernels
   * ignore it.
   *
   * @default {50}
   */
  batchWaitUs?: number;
  /**
   * Set `SO_REUSEPORT` so several processes can listen on the same port and
   * the kernel spreads connections among them (Linux only).
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Server processes sharing the port (Linux: `SO_REUSEPORT`). Above 1, the
   * server is a parent that starts this many `serve` children.
   *
   * @default {1}
   */
  processes?: number;
  /**
   * Receives one-line warnings the user should see while the server runs
   * (the open-file limit was reached, accept keeps failing). Each kind of
   * warning is reported once per server, so a flood cannot fill a log.
   *
   * @default {prints `warning: MESSAGE` on stderr}
   */
  onWarning?: (message: string) => void;
}

/** Counters a server keeps; all are totals since start except `active` and `threads`. */
export interface ServerStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections open now. */
  active: number;
  /** Connections closed (by either side). */
  closed: number;
  /** Bytes received from clients. */
  bytesIn: number;
  /** Bytes sent to clients. */
  bytesOut: number;
  /** Connection-level errors (resets, failed writes); each closed only its own connection. */
  errors: number;
  /** Connections closed at once because `maxConnections` were open. */
  rejected: number;
  /** Connections closed for being idle longer than `idleTimeout`. */
  timedOut: number;
  /** Syscalls made by the serving code, where the mode can count them (FFI modes). */
  syscalls?: number;
  /** Threads (Workers) running the server, for the modes that use them. */
  threads?: number;
  /** Messages (read chunks) the `--work`/`--offload` handler processed. */
  workMessages?: number;
  /** Members of the offload pool. */
  offloadPool?: number;
  /** Tasks the offload pool completed. */
  offloadTasks?: number;
  /** Most tasks waiting in the offload queue at once. */
  offloadQueueMax?: number;
  /** Total time tasks waited in the offload queue, ms. */
  offloadWaitMs?: number;
  /** Server processes whose counters are summed here (`--processes`). */
  processes?: number;
  /**
   * Memory the server's threads added: RSS growth since the server started
   * (`blocking` mode; nearly all of it is Worker isolates).
   */
  threadMemoryBytes?: number;
  /** Mean time from creating a connection thread to it running, ms (`blocking` mode). */
  threadStartMs?: number;
  /** Threads started before the server accepted its first connection (`blocking --prespawn`). */
  prespawned?: number;
  /** Wall time to start the prespawned threads, ms (they start one after another). */
  prespawnMs?: number;
  /** RSS the prespawned threads added, bytes (divide by `prespawned` for one thread's cost). */
  prespawnBytes?: number;
}

/** The address a server is bound to. */
export interface ServerAddr {
  /** Host the server bound. */
  hostname: string;
  /** The real bound port (never 0 once listening). */
  port: number;
}

/** A running echo server of any mode. */
export interface EchoServer {
  /** The model this server runs. */
  readonly mode: Mode;
  /** Where it listens. */
  readonly addr: ServerAddr;
  /** A snapshot of its counters. */
  stats(): ServerStats;
  /**
   * Facts about this server's setup worth telling the user at start (a
   * runtime limit, a cap in force); the CLI prints them on stderr.
   */
  readonly notes?: readonly string[];
  /** Stops accepting, closes every connection; resolves when all is closed. */
  close(): Promise<void>;
  /** Resolves once the server has fully stopped. */
  readonly closed: Promise<void>;
}

/** Default listen backlog. */
export const DEFAULT_BACKLOG = 1024;
/** Default cap on connections served at once. */
export const DEFAULT_MAX_CONNECTIONS = 16384;
/** Default idle timeout, ms. */
export const DEFAULT_IDLE_TIMEOUT = 300_000;
/**
 * Default cap on the `blocking` mode's threads: about 1 GB of Workers when all
 * run, and a few seconds of CPU to start them on a 2-core machine.
 */
export const DEFAULT_MAX_THREADS = 128;
/** Default per-connection buffer bound in bytes. */
export const DEFAULT_MAX_BUFFER = 256 * 1024;

/**
 * A stats record with every counter at zero, for a server about to start.
 *
 * @returns Fresh counters.
 *
 * @example Usage
 * ```ts
 * import { emptyStats } from "./types.ts";
 * console.log(emptyStats().accepted); // 0
 * ```
 */
export function emptyStats(): ServerStats {
  return {
    accepted: 0,
    active: 0,
    closed: 0,
    bytesIn: 0,
    bytesOut: 0,
    errors: 0,
    rejected: 0,
    timedOut: 0,
  };
}
