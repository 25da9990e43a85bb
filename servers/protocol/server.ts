/**
 * {@linkcode createProtocolServer}: a TCP server whose connections are served
 * by a user's {@linkcode Protocol} on echokit's own event loop (a Worker
 * blocked in `epoll_wait`/`poll`, see `loop.ts`).
 *
 * The protocol is named by module URL and export, not passed as a function:
 * it runs on the loop's thread, which imports the module itself.
 *
 * @module
 */
import { ffiBindAddress, listenForServer } from "../_ffi_listen.ts";
import { loopStats, startLoopThread } from "../_loop_thread.ts";
import { checkReusePort } from "../_reuse_port.ts";
import { warnOnce } from "../_warn_once.ts";
import { defaultBackend } from "../os/poller.ts";
import { setFileLimit } from "../os/socket.ts";
import {
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_CONNECTIONS,
  type EchoServer,
  type ServeOptions,
  type ServerStats,
} from "../types.ts";
import { type ProtocolLoopConfig, ProtocolStat } from "./loop.ts";
import { DEFAULT_HIGH_WATER } from "./types.ts";

/** Bytes asked of one `recv`, as in `nonblocking`. */
const READ_SIZE = 64 * 1024;

/** Options of {@linkcode createProtocolServer}. */
export interface ProtocolServerOptions
  extends Omit<ServeOptions, "mode" | "work" | "offload" | "processes" | "engine"> {
  /** The module that exports the protocol factory (`() => Protocol`). */
  protocol: URL | string;
  /**
   * The mode the server reports and names in messages: `stream` runs its
   * async/await loop on this loop (see `streams.ts`).
   *
   * @default {"protocol"}
   */
  mode?: "protocol" | "stream";
  /**
   * The factory's export name.
   *
   * @default {"createProtocol"}
   */
  factory?: string;
}

/** Counters of a protocol server, beyond every server's. */
export interface ProtocolServerStats extends ServerStats {
  /** Times a transport called its protocol's `pauseWriting()`. */
  writePauses: number;
  /** Times a transport called `resumeWriting()`. */
  writeResumes: number;
  /** Times a protocol paused reading. */
  readPauses: number;
  /** Largest write buffer any transport held, bytes. */
  peakWriteBuffer: number;
}

/** A running protocol server. */
export interface ProtocolServer extends EchoServer {
  /** A snapshot of its counters. */
  stats(): ProtocolServerStats;
}

/**
 * Starts a server running `protocol` on echokit's own loop: binds here (so
 * bind errors come back here), then runs the loop on a Worker that imports
 * the protocol module.
 *
 * @param options The protocol module, where to listen, limits. `maxBuffer`
 *   caps the initial high water mark (asyncio's 64 KiB) and each `recv`.
 * @returns The running server (`mode` is `options.mode`).
 * @throws {LibcUnavailable} Without `--allow-ffi`, or on an unsupported OS/CPU.
 * @throws {UsageError} For a non-IPv4 host.
 * @throws {EchokitError} When the module or its factory cannot be loaded.
 *
 * @example Usage
 * ```ts ignore
 * import { createProtocolServer } from "./server.ts";
 * const server = await createProtocolServer({
 *   protocol: new URL("./examples/upper_lines.ts", import.meta.url),
 *   port: 0,
 * });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 */
export async function createProtocolServer(
  options: ProtocolServerOptions,
): Promise<ProtocolServer> {
  const mode = options.mode ?? "protocol";
  const fallback = mode === "stream" ? "deno" : "node";
  const { hostname, port } = ffiBindAddress(options, {
    what: `The ${mode} loop`,
    needsLibc: `Mode "${mode}" (its own loop; use --engine ${fallback} without FFI)`,
    instead: `--engine ${fallback}`,
  });
  const backend = options.backend ?? defaultBackend();
  setFileLimit();
  if (options.reusePort) checkReusePort(`--reuse-port in ${mode} mode`, false);
  const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const listener = listenForServer({ ...options, mode }, hostname, port);
  const loop = await startLoopThread<ProtocolLoopConfig>({
    what: mode,
    worker: new URL("./loop_worker.ts", import.meta.url),
    config: {
      listenFd: listener.fd,
      what: mode,
      backend,
      protocolModule: String(options.protocol),
      protocolExport: options.factory ?? "createProtocol",
      readSize: Math.min(READ_SIZE, maxBuffer),
      highWater: Math.min(DEFAULT_HIGH_WATER, maxBuffer),
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    },
    statSlots: ProtocolStat.length,
    warn: warnOnce({ ...options, mode }),
  });
  const shared = loop.stats;
  return {
    mode,
    addr: { hostname: listener.addr.hostname, port: listener.addr.port },
    notes: [],
    stats(): ProtocolServerStats {
      return {
        ...loopStats(shared, ProtocolStat),
        writePauses: shared[ProtocolStat.writePauses],
        writeResumes: shared[ProtocolStat.writeResumes],
        readPauses: shared[ProtocolStat.readPauses],
        peakWriteBuffer: shared[ProtocolStat.peakWriteBuffer],
      };
    },
    close: loop.close,
    closed: loop.closed,
  };
}
