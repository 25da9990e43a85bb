/**
 * The `uring` model: one thread, many connections, a *completion* loop over
 * io_uring — what the fastest Linux servers are moving to, written out over
 * the ring layer in `os/io_uring.ts` so every request is visible.
 *
 * Readiness (`nonblocking`) asks "which sockets can I read?" and then reads
 * each one itself. Completion I/O asks the kernel to do the reading:
 *
 * 1. For every connection one `recv` into that connection's buffer is
 *    outstanding.
 * 2. Once per loop turn one `io_uring_enter` submits every request queued
 *    since the last turn and sleeps until at least one has finished.
 * 3. A completion says "this recv brought 64 bytes": we queue the echo, a
 *    `send` of those bytes *linked* to the next `recv` (`IOSQE_IO_LINK`: the
 *    kernel starts the recv when the send is done). The send asks for no
 *    completion unless it fails (`IOSQE_CQE_SKIP_SUCCESS`) and for all its
 *    bytes (`MSG_WAITALL`: the kernel finishes a partial send itself), so a
 *    message costs one completion.
 * 4. No readiness notification, no `EAGAIN`: a request that cannot proceed
 *    waits inside the kernel, and a whole loop turn of requests costs one
 *    syscall where a readiness loop pays an `epoll_wait` plus a `recv` and a
 *    `send` per message.
 *
 * 5. The wait asks for a *batch*: a quarter of the connections that
 *    completed a message in the last millisecond, or whatever has arrived
 *    after `batchWaitUs` (50 µs; Linux 6.12's min-wait). Under load the
 *    kernel then wakes the loop once per batch, not per message, and each
 *    turn answers many connections; a quiet server asks for one completion
 *    and answers at once. The price: a reply may leave up to 50 µs later.
 *
 * Backpressure comes free: a connection's next `recv` starts only when its
 * `send` has completed, so a client that never reads holds one buffer
 * (`maxBuffer` at most) and its own bytes wait in the kernel's socket buffers.
 *
 * Connections come from one multishot `accept` (a completion per connection);
 * a `poll` request on the waker's eventfd is how `close()` wakes the loop.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { BufferPool } from "./_buffer_pool.ts";
import { ffiBindAddress, listenForServer } from "./_ffi_listen.ts";
import { idleSweepInterval } from "./_idle_sweeper.ts";
import {
  echoLimits,
  LOOP_STAT,
  loopStats,
  type LoopThreadConfig,
  startLoopThread,
} from "./_loop_thread.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { warnOnce } from "./_warn_once.ts";
import {
  ACCEPT_MULTISHOT,
  bufferAddress,
  CQE_F_MORE,
  IoUringUnavailable,
  ioUringUnavailableReason,
  OP,
  openRing,
  type Ring,
  SQE_FLAGS,
} from "./os/io_uring.ts";
import * as libc from "./os/libc.ts";
import { attachWaker } from "./os/poller.ts";
import { sendFlags, setFileLimit, setNoDelay, setNonblocking } from "./os/socket.ts";
import type { EchoServer, ServeOptions, ServerStats } from "./types.ts";

/** Slots of the loop's shared stats array (a `Float64Array`): the ones every loop has. */
const LoopStat = LOOP_STAT;

/** What the loop needs; plain numbers, so it can be posted to a Worker. */
export interface UringLoopConfig extends LoopThreadConfig {
  /** Bytes per connection buffer (one `recv` at most); bounds a never-reading client. */
  maxBuffer: number;
  /** Most connections open at once; beyond it one is accepted and closed at once. */
  maxConnections: number;
  /** Milliseconds a connection may stay silent before it is closed; 0: never. */
  idleTimeout: number;
  /** SQ entries of the ring. @default {4096} */
  ringEntries?: number;
  /**
   * How long a wait holds out for its batch, µs (see {@linkcode BATCH_WAIT_US}); 0: no batches.
   * @default {BATCH_WAIT_US}
   */
  batchWaitUs?: number;
}

/** Bytes asked of one `recv`: each connection owns a buffer this size (or `maxBuffer`). */
const READ_SIZE = 16 * 1024;
/** How long to stop accepting after running out of file descriptors. */
const EMFILE_BACKOFF_MS = 100;
/**
 * How long a wait holds out for its batch of completions before settling for
 * what has arrived, µs (Linux 6.12; older kernels wake at the first).
 */
export const BATCH_WAIT_US = 50;
/** The longest batch wait a server takes, µs: past 10 ms a "batch" is a stall. */
export const MAX_BATCH_WAIT_US = 10_000;
/** The wait when no timer is due: long, since any completion ends it. */
const WAIT_FOREVER_MS = 3_600_000;
/** `POLLIN`, for the waker's poll request. */
const POLLIN = 1;
/** `MSG_WAITALL`: the kernel finishes a partial send itself (Linux 6.0) before completing it. */
const MSG_WAITALL = 0x100;
/** A send that posts a completion only if it fails, and starts the next `recv` when done. */
const SEND_THEN_RECV = SQE_FLAGS.IO_LINK | SQE_FLAGS.CQE_SKIP_SUCCESS;

// `user_data` of a request: what it is in the low two bits, the fd above. A
// connection has one request at most in flight and its fd stays open until
// that request completes, so an fd cannot be reused under a live request.
const KIND_ACCEPT = 0;
const KIND_WAKE = 1;
const KIND_RECV = 2;
const KIND_SEND = 3;
/** `IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD`: cancel every request on an fd. */
const ASYNC_CANCEL_ALL_FD = 1 | 2;
/** `user_data` of cancel requests, whose completions need nothing. */
const DATA_IGNORE = 0xffffffff;

/** What the loop remembers per connection. */
interface Connection {
  fd: number;
  /** The connection's buffer: `recv` fills it, `send` echoes it. */
  buf: Uint8Array;
  /** Its address, for the requests. */
  addr: number;
  /** A `recv` (perhaps behind its linked `send`) is in flight. */
  inFlight: boolean;
  /** Closed (counted) but its request not yet completed: close the fd then. */
  closing: boolean;
  /**
   * When a request last completed (the loop's clock, a millisecond): for the
   * idle timeout, and to count the connections active in this millisecond.
   */
  lastActive: number;
}

/**
 * Runs the completion loop on the calling thread until the control word is
 * set and the waker fires. Blocks the thread: run it on a Worker.
 *
 * @param config Sockets, bounds and shared memory.
 * @param warn Reports a condition the user should see. @default {stderr}
 */
export function runUringLoop(
  config: UringLoopConfig,
  warn: (message: string) => void = console.error,
): void {
  const p = libc.platform();
  const { listenFd, maxConnections, idleTimeout } = config;
  const readSize = Math.min(READ_SIZE, config.maxBuffer);
  const flags = sendFlags() | MSG_WAITALL;
  const shared = new Float64Array(config.stats);
  const control = new Int32Array(config.control);
  const waker = attachWaker({ readFd: config.wakeReadFd, writeFd: config.wakeWriteFd });
  const ring: Ring = openRing({
    entries: config.ringEntries ?? 4096,
    batchWaitUs: config.batchWaitUs ?? BATCH_WAIT_US,
  });
  const pool = new BufferPool(readSize, 1024);

  const conns: (Connection | undefined)[] = [];
  let accepted = 0, closed = 0, bytesIn = 0, bytesOut = 0, errors = 0;
  let open = 0, rejected = 0, timedOut = 0;
  let acceptArmed = false;
  let multishot = true;
  let acceptPausedUntil = 0;
  let loggedEmfile = false;
  const sweepEvery = idleTimeout > 0 ? idleSweepInterval(idleTimeout) : 0;
  let now = Date.now();
  let nextSweep = idleTimeout > 0 ? now + sweepEvery : Infinity;
  // The batch a wait asks for: a quarter of the connections that completed a
  // message in the last millisecond (`activeNow` counts them for `now`).
  let activeNow = 0, batch = 1;
  let countedMs = now;

  armAccept();
  ring.queue(OP.POLL_ADD, waker.readFd, 0, 0, 0, POLLIN, KIND_WAKE);

  let stopping = false;
  while (!stopping) {
    const until = acceptPausedUntil === 0 ? nextSweep : Math.min(acceptPausedUntil, nextSweep);
    const waitMs = until === Infinity ? WAIT_FOREVER_MS : Math.max(0, Math.ceil(until - now));
    // The whole turn: submit every queued request, sleep for a completion.
    if (ring.submitAndWait(waitMs, batch) < 0) {
      throw new Error(`io_uring_enter failed: ${libc.strerror(libc.errno())}`);
    }
    now = Date.now();
    if (now !== countedMs) {
      batch = Math.max(1, activeNow >> 2);
      activeNow = 0;
      countedMs = now;
    }
    const n = ring.completions();
    for (let i = 0; i < n; i++) {
      const data = ring.completionData(i);
      const res = ring.completionResult(i);
      if (data === DATA_IGNORE) continue;
      const kind = data & 3;
      if (kind === KIND_ACCEPT) {
        onAccept(res, ring.completionFlags(i));
      } else if (kind === KIND_WAKE) {
        waker.drain();
        if (Atomics.load(control, 0) !== 0) stopping = true;
        else ring.queue(OP.POLL_ADD, waker.readFd, 0, 0, 0, POLLIN, KIND_WAKE);
      } else {
        const conn = conns[data >>> 2];
        if (conn) onConnection(conn, kind, res);
      }
    }
    ring.consume(n);

    if (now >= nextSweep) closeIdle();
    if (acceptPausedUntil !== 0 && now >= acceptPausedUntil) {
      acceptPausedUntil = 0;
      armAccept();
    }
    publish();
  }

  // Stopping: closing the ring cancels every request; then every fd closes.
  ring.close();
  for (const conn of conns) {
    if (conn) {
      libc.close(conn.fd);
      if (!conn.closing) closed++;
    }
  }
  libc.close(listenFd);
  publish();

  // ---------------------------------------------------------------------------

  /** One `accept` request: multishot (one completion per connection) where the kernel has it. */
  function armAccept(): void {
    acceptArmed = true;
    ring.queue(
      OP.ACCEPT,
      listenFd,
      0,
      0,
      0,
      p.SOCK_CLOEXEC,
      KIND_ACCEPT,
      0,
      multishot ? ACCEPT_MULTISHOT : 0,
    );
  }

  /** An `accept` completed: `res` is the new fd, or `-errno`. */
  function onAccept(res: number, cqeFlags: number): void {
    acceptArmed = (cqeFlags & CQE_F_MORE) !== 0;
    if (res < 0) {
      const e = -res;
      if (e === p.EINVAL && multishot && accepted === 0) {
        multishot = false; // A kernel before 5.19: one accept request per connection.
      } else if (e === p.EMFILE || e === p.ENFILE || e === p.ENOBUFS || e === p.ENOMEM) {
        // Out of fds: stop asking for a moment; connections wait in the backlog.
        errors++;
        if (!loggedEmfile) {
          loggedEmfile = true;
          warn(
            `uring: accept failed: ${libc.strerror(e)}; pausing accepts for ` +
              `${EMFILE_BACKOFF_MS} ms at a time (raise the open-files limit: ulimit -n)`,
          );
        }
        now = Date.now();
        acceptPausedUntil = now + EMFILE_BACKOFF_MS;
        return;
      } else if (e !== p.EINTR && e !== p.ECONNABORTED && e !== p.EAGAIN) {
        errors++;
      }
      if (!acceptArmed && !stopping) armAccept();
      return;
    }
    if (!acceptArmed && acceptPausedUntil === 0) armAccept();
    accepted++;
    if (open >= maxConnections) {
      // Over the cap: close at once, so the client learns now (EOF).
      libc.close(res);
      rejected++;
      return;
    }
    setNoDelay(res);
    open++;
    const buf = pool.take();
    const conn: Connection = {
      fd: res,
      buf,
      addr: bufferAddress(buf.buffer as ArrayBuffer),
      inFlight: false,
      closing: false,
      lastActive: now,
    };
    conns[res] = conn;
    recv(conn);
  }

  function recv(conn: Connection): void {
    conn.inFlight = true;
    ring.queue(OP.RECV, conn.fd, conn.addr, readSize, 0, 0, (conn.fd << 2) | KIND_RECV);
  }

  /** Echoes `buf[0..len)` and reads again after it, in one linked pair of requests. */
  function echo(conn: Connection, len: number): void {
    // Both in one submission: a link does not span two io_uring_enter calls.
    ring.reserve(2);
    ring.queue(
      OP.SEND,
      conn.fd,
      conn.addr,
      len,
      0,
      flags,
      (conn.fd << 2) | KIND_SEND,
      SEND_THEN_RECV,
    );
    recv(conn);
  }

  /** A connection's request completed with `res` bytes, or `-errno`. */
  function onConnection(conn: Connection, kind: number, res: number): void {
    if (kind === KIND_SEND) {
      // Only a failed or short send completes (ECONNRESET, EPIPE, a cancel).
      // Its linked recv is then cancelled without a completion of its own
      // (a CQE_SKIP_SUCCESS head skips its links' CQEs), so nothing is in
      // flight any more.
      conn.inFlight = false;
      if (conn.closing) return release(conn);
      errors++;
      return closeConnection(conn);
    }
    conn.inFlight = false;
    if (conn.closing) return release(conn);
    if (conn.lastActive !== now) activeNow++; // Its first completion this millisecond.
    conn.lastActive = now;
    if (res < 0) {
      if (res === -p.EINTR || res === -p.EAGAIN) return recv(conn);
      errors++; // ECONNRESET and friends end this connection only.
      return closeConnection(conn);
    }
    if (res === 0) return closeConnection(conn); // EOF; the last echo went out before this recv began.
    bytesIn += res;
    // Counted when queued: a send that fails later closes the connection.
    bytesOut += res;
    echo(conn, res);
  }

  /** Closes the connections with no completion for `idleTimeout` (a client that never reads counts too). */
  function closeIdle(): void {
    nextSweep = now + sweepEvery;
    for (const conn of conns) {
      if (conn && !conn.closing && now - conn.lastActive >= idleTimeout) {
        timedOut++;
        closeConnection(conn);
      }
    }
  }

  /**
   * Counts the connection closed now. With a request in flight its fd must
   * stay open until that request completes (the kernel may still write the
   * buffer): shut the socket down and cancel the request, which completes it.
   */
  function closeConnection(conn: Connection): void {
    open--;
    closed++;
    if (!conn.inFlight) return release(conn);
    // Cancel both: a send stuck on a client that never reads (its linked
    // recv is then cancelled too), or a recv waiting for one that sends
    // nothing. The shutdown tells the client now.
    conn.closing = true;
    libc.shutdown(conn.fd, p.SHUT_RDWR);
    cancelAll(conn);
  }

  /** Cancels every request on the connection's fd (`IORING_ASYNC_CANCEL_FD | _ALL`, Linux 5.19). */
  function cancelAll(conn: Connection): void {
    ring.queue(OP.ASYNC_CANCEL, conn.fd, 0, 0, 0, ASYNC_CANCEL_ALL_FD, DATA_IGNORE);
  }

  function release(conn: Connection): void {
    libc.close(conn.fd);
    conns[conn.fd] = undefined;
    pool.give(conn.buf);
  }

  /** Copies the local counters to shared memory: a few stores per loop turn, not per message. */
  function publish(): void {
    shared[LoopStat.accepted] = accepted;
    shared[LoopStat.closed] = closed;
    shared[LoopStat.bytesIn] = bytesIn;
    shared[LoopStat.bytesOut] = bytesOut;
    shared[LoopStat.errors] = errors;
    shared[LoopStat.rejected] = rejected;
    shared[LoopStat.timedOut] = timedOut;
    shared[LoopStat.syscalls] = libc.syscallCount();
  }
}

/**
 * Starts a `uring` echo server: binds on this thread (so bind errors come
 * back here), then runs {@linkcode runUringLoop} on a Worker.
 *
 * @param options Where to listen and the limits; `mode` is ignored.
 * @returns The running server.
 * @throws {IoUringUnavailable} Where io_uring is refused (not Linux, disabled, seccomp).
 * @throws {UsageError} For a non-IPv4 host, `--work` or `--offload`.
 *
 * @example Usage
 * ```ts ignore
 * import { serveUring } from "./uring.ts";
 * const server = await serveUring({ mode: "uring", port: 0 });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 */
export async function serveUring(options: ServeOptions): Promise<EchoServer> {
  const { hostname, port } = ffiBindAddress(options, { what: 'Mode "uring"' });
  if (options.work || options.offload) {
    throw new UsageError(
      `${options.work ? "--work" : "--offload"} is not available in mode "uring" ` +
        `(use --mode nonblocking for --work, stream or protocol for --offload)`,
    );
  }
  const batchWaitUs = options.batchWaitUs ?? BATCH_WAIT_US;
  if (!Number.isInteger(batchWaitUs) || batchWaitUs < 0 || batchWaitUs > MAX_BATCH_WAIT_US) {
    throw new UsageError(
      `Invalid batchWaitUs ${batchWaitUs} (use a whole number of µs, 0 to ${MAX_BATCH_WAIT_US})`,
    );
  }
  const why = ioUringUnavailableReason();
  if (why !== undefined) throw new IoUringUnavailable('mode "uring"', why);
  setFileLimit();
  if (options.reusePort) checkReusePort("--reuse-port in uring mode", false);

  const listener = listenForServer(options, hostname, port);
  // The ring waits inside the kernel: the listener needs no O_NONBLOCK.
  setNonblocking(listener.fd, false);
  const loop = await startLoopThread<UringLoopConfig>({
    what: "uring",
    worker: new URL("./uring_worker.ts", import.meta.url),
    config: {
      listenFd: listener.fd,
      ...echoLimits(options),
      batchWaitUs,
    },
    statSlots: LoopStat.length,
    warn: warnOnce(options),
  });
  const shared = loop.stats;
  return {
    mode: "uring",
    addr: { hostname: listener.addr.hostname, port: listener.addr.port },
    stats: (): ServerStats => loopStats(shared, LoopStat),
    close: loop.close,
    closed: loop.closed,
  };
}
