/**
 * The `stream` model: async/await reads and writes, one logical loop per
 * connection, as with Python's asyncio streams.
 *
 * Two engines run the same loop. The default, `loop`, runs it on echokit's
 * own event loop (`stream_loop.ts`: readers and writers over the protocol
 * API, as asyncio's streams sit over its protocols). `deno`, below, runs it
 * on `Deno.Conn`, whose every read and write is an op into Deno's runtime;
 * it is what runs without FFI, with `--work` or `--offload`, and on IPv6.
 *
 * Each connection runs `read → write → read …`. The loop only reads again
 * after the whole echo is written, so a client that never reads stalls its
 * own loop once the socket buffers fill, and the server buffers at most one
 * read's worth per connection.
 *
 * With `--work` the loop becomes `read → work → write`: a sleep is an awaited
 * timer (other connections keep being served), a file is read with an awaited
 * read, but block and cpu work run on the one event-loop thread and stall every
 * connection, unless `--offload` hands them to a pool.
 *
 * @module
 */
import { serveOnLoopOr } from "./_engine_choice.ts";
import { listenError } from "./_listen_error.ts";
import { BufferPool } from "./_buffer_pool.ts";
import { IdleSweeper } from "./_idle_sweeper.ts";
import { createMessageHandler } from "./_message_handler.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { warnOnce } from "./_warn_once.ts";
import {
  DEFAULT_BACKLOG,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_CONNECTIONS,
  type EchoServer,
  emptyStats,
  type ServeOptions,
  type ServerStats,
} from "./types.ts";

/** Bytes read at once per connection; also the most buffered per connection. */
const READ_SIZE = 16 * 1024;
/**
 * A connection's first read buffer. Every open connection holds its buffer
 * while its read waits, so starting small keeps an idle connection cheap; a
 * read that fills the buffer doubles it, up to {@linkcode READ_SIZE}.
 */
const FIRST_READ_SIZE = 2 * 1024;
/**
 * Most first-size read buffers kept from closed connections for new ones
 * (64 × 2 KiB): enough for a steady stream of reconnecting clients, and what
 * stays allocated after a burst of connections has closed.
 */
const POOLED_BUFFERS = 64;
/** Pause after a failed accept (EMFILE): long enough not to spin, short enough to recover fast. */
const ACCEPT_BACKOFF_MS = 50;

/**
 * Starts a `stream` echo server on the engine `options.engine` names: `loop`
 * (the default) or `deno` (without FFI, with `--work`/`--offload`, or on
 * an IPv6 host).
 *
 * @param options Where to listen, limits, engine; `mode` is ignored.
 * @returns The running server.
 * @throws {UsageError} For `--engine loop` with work, offload or no FFI.
 *
 * @example Usage
 * ```ts ignore
 * import { serveStream } from "./stream.ts";
 * const server = await serveStream({ mode: "stream", port: 0 });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 */
export function serveStream(options: ServeOptions): Promise<EchoServer> {
  return serveOnLoopOr(options, {
    mode: "stream",
    other: "deno",
    protocol: new URL("./stream_loop.ts", import.meta.url),
    serveOther: serveStreamDeno,
  });
}

/**
 * Starts a `stream` echo server on `Deno.Conn` (`--engine deno`).
 *
 * @param options Where to listen, the buffer bound, work and offload.
 * @returns The running server.
 */
export async function serveStreamDeno(options: ServeOptions): Promise<EchoServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const readSize = Math.max(1, Math.min(READ_SIZE, options.maxBuffer ?? DEFAULT_MAX_BUFFER));
  if (options.reusePort) checkReusePort("--reuse-port in stream mode", true);
  const handler = await createMessageHandler(options);
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname,
      port,
      transport: "tcp",
      tcpBacklog: options.backlog ?? DEFAULT_BACKLOG,
      // Only when asked: without --unstable-net, Deno exits on this option.
      ...(options.reusePort ? { reusePort: true } : {}),
    });
  } catch (err) {
    await handler?.close();
    throw listenError(err, hostname, port);
  }

  const stats: ServerStats = emptyStats();
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const conns = new Set<Deno.TcpConn>();
  const idle = new IdleSweeper<Deno.TcpConn>(
    options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    (conn) => {
      stats.timedOut++;
      closeQuietly(conn);
    },
  );
  const handlers = new Set<Promise<void>>();
  const buffers = new BufferPool(Math.min(FIRST_READ_SIZE, readSize), POOLED_BUFFERS);
  const warn = warnOnce(options);
  let closing = false;

  async function echo(conn: Deno.TcpConn): Promise<void> {
    let buf = buffers.take();
    try {
      while (true) {
        const n = await conn.read(buf);
        // null is EOF: the client shut its write side. Everything read so far
        // has been written back already, so a half-close ends cleanly here.
        if (n === null) break;
        idle.touch(conn);
        stats.bytesIn += n;
        // One view of what was read, none for the common whole write: the
        // only allocation per message is the promise of each read and write.
        const data = buf.subarray(0, n);
        const reply = handler ? await handler.handle(data) : data;
        let off = await conn.write(reply);
        while (off < reply.length) off += await conn.write(reply.subarray(off));
        stats.bytesOut += reply.length;
        if (n === buf.length && n < readSize) {
          // The echo is written: nothing uses the outgrown buffer any more.
          buffers.give(buf);
          buf = new Uint8Array(Math.min(2 * n, readSize));
        }
      }
    } catch {
      // A reset or a failed write ends this connection only.
      if (!closing) stats.errors++;
    } finally {
      // The read or write that ended the loop has settled: the buffer is free.
      buffers.give(buf);
      conns.delete(conn);
      idle.delete(conn);
      closeQuietly(conn);
      stats.active--;
      stats.closed++;
    }
  }

  async function acceptLoop(): Promise<void> {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing || err instanceof Deno.errors.BadResource) return;
        // EMFILE and friends: the connection stays queued in the kernel's
        // backlog, so back off (no busy loop on a level-triggered listener),
        // keep serving the open connections, and accept it once fds free up.
        stats.errors++;
        warn(
          "accept",
          `Accept failed: ${
            err instanceof Error ? err.message : err
          }; backing off and retrying (raise "ulimit -n" or lower --max-connections)`,
        );
        await new Promise((r) => setTimeout(r, ACCEPT_BACKOFF_MS));
        continue;
      }
      stats.accepted++;
      if (stats.active >= maxConnections) {
        stats.rejected++;
        closeQuietly(conn);
        continue;
      }
      stats.active++;
      try {
        conn.setNoDelay(true);
      } catch {
        // The peer may already be gone; the read loop will notice.
      }
      conns.add(conn);
      idle.touch(conn);
      const handler = echo(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  }

  const accepting = acceptLoop();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => resolveClosed = r);
  let closeCall: Promise<void> | undefined;

  const addr = listener.addr as Deno.NetAddr;
  return {
    mode: "stream",
    addr: { hostname: addr.hostname, port: addr.port },
    stats: () => ({ ...stats, ...handler?.stats() }),
    notes: handler?.notes ?? [],
    close(): Promise<void> {
      closeCall ??= (async () => {
        closing = true;
        idle.stop();
        closeQuietly(listener);
        for (const conn of conns) closeQuietly(conn);
        // Fails tasks still queued or running, so no handler waits on the pool.
        await handler?.close();
        await accepting;
        await Promise.all([...handlers]);
        resolveClosed();
      })();
      return closeCall;
    },
    closed,
  };
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}
