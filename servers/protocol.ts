/**
 * The `protocol` model: callbacks on events, as with asyncio.Protocol or
 * Twisted. By default it runs the echo protocol of
 * `protocol/echo.ts` on echokit's own event loop (`protocol/loop.ts`);
 * `engine: "node"` (`--engine node`) runs the `node:net` server below instead,
 * as it does where FFI is unavailable and with `--work`/`--offload` (the own
 * loop cannot await a timer or a pool).
 *
 * The `node:net` engine: `data` events write the bytes straight back; when `write()` says
 * the socket's buffer is full the connection is paused until `drain`, which is
 * how a callback server keeps a client that never reads from growing its
 * memory.
 *
 * In Deno, `node:net` runs on its own native code path, so this is a
 * genuinely different measurement from the `stream` mode.
 *
 * With `--work` a connection is paused while its message is worked on, with
 * callbacks (a timer for sleep, `fs.readFile` for a file), then the reply is
 * written and reading resumes; chunks that slip in meanwhile wait their turn,
 * so each connection's bytes stay in order. block and cpu work run on the one
 * event-loop thread and stall every connection, unless `--offload` is given.
 *
 * @module
 */
import { serveOnLoopOr } from "./_engine_choice.ts";
import { createServer, type Server, type Socket } from "node:net";
import { connectionCapacity } from "./_fd_limit.ts";
import { IdleSweeper } from "./_idle_sweeper.ts";
import { warnOnce } from "./_warn_once.ts";
import { listenError } from "./_listen_error.ts";
import { createMessageHandler, type MessageHandler } from "./_message_handler.ts";
import { checkReusePort } from "./_reuse_port.ts";
import {
  DEFAULT_BACKLOG,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  type EchoServer,
  emptyStats,
  type ServeOptions,
  type ServerStats,
} from "./types.ts";

/** How often a stalled accept loop is restarted; the longest a server stays deaf after EMFILE. */
const REARM_EVERY_MS = 500;

/**
 * Starts a `protocol` echo server on the engine `options.engine` asks for.
 *
 * @param options Where to listen, limits, the engine; `mode` is ignored.
 * @returns The running server.
 * @throws {UsageError} For `engine: "loop"` with work or offload, or without FFI.
 *
 * @example Usage
 * ```ts ignore
 * import { serveProtocol } from "./protocol.ts";
 * const server = await serveProtocol({ mode: "protocol", port: 0 });
 * await server.close();
 * ```
 */
export function serveProtocol(options: ServeOptions): Promise<EchoServer> {
  return serveOnLoopOr(options, {
    mode: "protocol",
    other: "node",
    protocol: new URL("./protocol/echo.ts", import.meta.url),
    serveOther: serveProtocolNode,
  });
}

/**
 * Starts the `node:net` engine of the `protocol` echo server.
 *
 * @param options Where to listen and the backlog; `mode` is ignored.
 * @returns The running server.
 *
 * @example Usage
 * ```ts ignore
 * import { serveProtocolNode } from "./protocol.ts";
 * const server = await serveProtocolNode({ mode: "protocol", port: 0 });
 * await server.close();
 * ```
 */
export async function serveProtocolNode(options: ServeOptions): Promise<EchoServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  if (options.reusePort) checkReusePort("--reuse-port in protocol mode", false);
  const handler = await createMessageHandler(options);

  const stats: ServerStats = emptyStats();
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // Deno's node:net stops accepting for good after one failed accept (EMFILE:
  // no error event, no retry). Two defences: past the fds left under the
  // open-file limit, connections are refused like those over maxConnections
  // (and the user is told once); and a watchdog re-arms the listener, which
  // restarts a stalled accept loop after a burst got through anyway.
  const fdCapacity = connectionCapacity() ?? Infinity;
  const warn = warnOnce(options);
  const sockets = new Set<Socket>();
  const idle = new IdleSweeper<Socket>(options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, (socket) => {
    stats.timedOut++;
    socket.destroy();
  });
  let closing = false;
  // Bytes written by sockets already closed; live ones are summed on demand.
  let closedBytesOut = 0;

  function onConnection(socket: Socket): void {
    stats.accepted++;
    if (stats.active >= maxConnections || stats.active >= fdCapacity) {
      stats.rejected++;
      socket.destroy();
      if (stats.active < maxConnections) {
        warn(
          "fd-limit",
          `Near the open-file limit: closing new connections beyond ${fdCapacity} open (raise "ulimit -n" or lower --max-connections)`,
        );
      }
      return;
    }
    stats.active++;
    sockets.add(socket);
    idle.touch(socket);
    socket.setNoDelay(true);
    if (handler) {
      echoWithWork(socket, handler);
    } else {
      socket.on("data", (chunk: Uint8Array) => {
        idle.touch(socket);
        stats.bytesIn += chunk.length;
        // false: the kernel buffer is full and Node queued the chunk. Stop
        // reading until it drains so buffering stays bounded per connection.
        if (!socket.write(chunk)) socket.pause();
      });
      socket.on("drain", () => socket.resume());
      // Half-close: the client is done sending. end() flushes what is queued,
      // then sends our FIN.
      socket.on("end", () => socket.end());
    }
    socket.on("error", () => {
      if (!closing) stats.errors++;
    });
    socket.on("close", () => {
      sockets.delete(socket);
      idle.delete(socket);
      closedBytesOut += socket.bytesWritten ?? 0;
      stats.active--;
      stats.closed++;
    });
  }

  function echoWithWork(socket: Socket, h: MessageHandler): void {
    // Chunks read while a message was being worked on: a data event can
    // slip in after pause(). Served in order, one at a time.
    const pending: Uint8Array[] = [];
    let busy = false;
    let draining = false;
    let ended = false;
    let endSent = false;
    const next = (): void => {
      while (!busy && !draining && !socket.destroyed) {
        const chunk = pending.shift();
        if (chunk === undefined) {
          if (!ended) socket.resume();
          else if (!endSent) {
            endSent = true;
            socket.end();
          }
          return;
        }
        busy = true;
        // A handler may call back synchronously (block, cpu): then this loop
        // takes the next chunk instead of recursing.
        let sync = true;
        h.handleWithCallback(chunk, (err, reply) => {
          busy = false;
          if (socket.destroyed) return;
          if (err || !reply) {
            if (!closing) stats.errors++;
            socket.destroy();
            return;
          }
          if (!socket.write(reply)) draining = true;
          if (!sync) next();
        });
        sync = false;
      }
    };
    socket.on("data", (chunk: Uint8Array) => {
      idle.touch(socket);
      stats.bytesIn += chunk.length;
      pending.push(chunk);
      socket.pause();
      next();
    });
    socket.on("drain", () => {
      draining = false;
      next();
    });
    socket.on("end", () => {
      ended = true;
      next();
    });
  }

  // allowHalfOpen keeps our side writable after the client's FIN so pending
  // echoes still go out.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  server.on("error", () => {
    if (!closing) stats.errors++;
  });

  return new Promise<EchoServer>((resolve, reject) => {
    const onListenError = (err: Error) => {
      handler?.close();
      reject(listenError(err, hostname, port));
    };
    server.once("error", onListenError);
    // reusePort is in Node's listen options since 22.12/23.1; Deno's node:net has it.
    const listenOptions = { host: hostname, port, backlog, reusePort: options.reusePort === true };
    server.listen(listenOptions, () => {
      server.off("error", onListenError);
      const watchdog = setInterval(() => rearmAccept(server, backlog), REARM_EVERY_MS);
      Deno.unrefTimer(watchdog);
      server.once("close", () => clearInterval(watchdog));
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : port;
      let resolveClosed!: () => void;
      const closed = new Promise<void>((r) => resolveClosed = r);
      server.once("close", () => resolveClosed());
      let closeCall: Promise<void> | undefined;
      resolve({
        mode: "protocol",
        addr: { hostname, port: bound },
        notes: handler?.notes ?? [],
        stats(): ServerStats {
          let live = 0;
          for (const s of sockets) live += s.bytesWritten ?? 0;
          return { ...stats, bytesOut: closedBytesOut + live, ...handler?.stats() };
        },
        close(): Promise<void> {
          closeCall ??= (async () => {
            const serverClosed = new Promise<void>((done) => server.close(() => done()));
            closing = true;
            idle.stop();
            for (const s of sockets) s.destroy();
            // Fails tasks still queued or running, so no connection waits on the pool.
            await handler?.close();
            await serverClosed;
            await closed;
          })();
          return closeCall;
        },
        closed,
      });
    });
  });
}

// Calls listen() again on the server's native handle: a no-op while it
// accepts, a restart after a failed accept stopped it.
function rearmAccept(server: Server, backlog: number): void {
  const handle = (server as unknown as { _handle?: { listen?(backlog: number): number } })._handle;
  try {
    handle?.listen?.(backlog);
  } catch {
    // Closing; nothing to restart.
  }
}
