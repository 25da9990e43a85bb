/**
 * The `nonblocking` model: one thread, many connections, a readiness loop —
 * what Python's `selectors`, libuv and nginx are built on, written out over
 * libc so every syscall is visible.
 *
 * The idea in four lines:
 *
 * 1. Every socket is non-blocking: a call that cannot proceed returns `EAGAIN`
 *    at once instead of putting the thread to sleep.
 * 2. One call — `epoll_wait` (Linux) or `poll` (anywhere) — sleeps until *some*
 *    socket is ready, and says which.
 * 3. For each ready socket we do the little work that will not block: accept
 *    what is queued, `recv` what arrived, `send` what fits.
 * 4. What does not fit is kept, and we ask to hear when the socket is writable.
 *
 * With `--work`, block, cpu and file work run right after `recv`, on the
 * loop's one thread: every other connection waits meanwhile, which is the
 * lesson. A sleep instead parks the connection: its bytes are kept, it is
 * neither read nor written until its deadline, and the wait's timeout is the
 * nearest deadline — a timer in the loop, as asyncio's `call_later` is.
 *
 * The loop ({@linkcode runEchoLoop}) comes first below, then the thin wrapper
 * ({@linkcode serveNonblocking}) that runs it on a Worker, so the main thread
 * stays free for signals and `close()` and wakes the loop through a waker fd.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import {
  Acceptor,
  checkWaitFailure,
  FAILED,
  IdleSweep,
  PendingOutput,
  recvSome,
  sendSome,
  type Sweepable,
  waitTimeout,
  WOULD_BLOCK,
} from "./_loop_io.ts";
import {
  echoLimits,
  LOOP_STAT,
  loopStats,
  type LoopThreadConfig,
  startLoopThread,
} from "./_loop_thread.ts";
import { ffiBindAddress, listenForServer } from "./_ffi_listen.ts";
import { prepareWork } from "./_message_handler.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { warnOnce } from "./_warn_once.ts";
import * as libc from "./os/libc.ts";
import {
  attachWaker,
  defaultBackend,
  ERROR,
  HANGUP,
  openPoller,
  type PollerBackend,
  READABLE,
  WRITABLE,
} from "./os/poller.ts";
import { sendFlags, setFileLimit } from "./os/socket.ts";
import type { EchoServer, ServeOptions, ServerStats } from "./types.ts";
import { doWorkSync, warmUpCpu, type Work } from "./work.ts";

/** What the loop needs; plain numbers, so it can be posted to a Worker. */
export interface EchoLoopConfig extends LoopThreadConfig {
  /** `epoll` or `poll`. */
  backend: PollerBackend;
  /** Pending output per connection above which we stop reading it. */
  maxBuffer: number;
  /** Most connections open at once; beyond it one is accepted and closed at once. */
  maxConnections: number;
  /** Milliseconds a connection may stay silent before it is closed; 0: never. */
  idleTimeout: number;
  /** Work per message (`--work`); none: a bare echo. */
  work?: Work;
  /** CPU rate for `cpu` work. */
  iterationsPerMs?: number;
}

/** Slots of the shared stats array (a `Float64Array`): every loop's, then handler work's. */
export const LoopStat = {
  ...LOOP_STAT,
  workMessages: LOOP_STAT.length,
  length: LOOP_STAT.length + 1,
};

/** Bytes asked of one `recv`. Large enough that a bulk transfer needs few calls. */
const READ_SIZE = 64 * 1024;

/** What the loop remembers per connection. */
interface Connection extends Sweepable {
  fd: number;
  /** Echo bytes the kernel would not take yet. */
  out: PendingOutput;
  /** What we last told the poller we want: READABLE and/or WRITABLE. */
  interest: number;
  /** The client shut its write side: flush `out`, then close. */
  peerClosed: boolean;
  /** `--work sleep`: `performance.now()` until which `out` is held back; 0 when not sleeping. */
  heldUntil: number;
}

/**
 * Runs the echo loop on the calling thread until the control word is set and
 * the waker fires. Blocks the thread: run it on a Worker.
 *
 * @param config Sockets, backend, bound and shared memory.
 * @param warn Reports a condition the user should see (the Worker posts it to
 *   the server's `onWarning`). @default {stderr}
 */
export function runEchoLoop(
  config: EchoLoopConfig,
  warn: (message: string) => void = console.error,
): void {
  const { listenFd, maxBuffer, maxConnections, idleTimeout } = config;
  const readSize = Math.min(READ_SIZE, maxBuffer);
  const flags = sendFlags();
  const shared = new Float64Array(config.stats);
  const control = new Int32Array(config.control);
  const waker = attachWaker({ readFd: config.wakeReadFd, writeFd: config.wakeWriteFd });

  // One read buffer for every connection: a message costs no allocation.
  const buf = new Uint8Array(readSize);
  // Connections by fd: fds are small integers the kernel reuses, so an array is the fastest map.
  const conns: (Connection | undefined)[] = [];
  let closed = 0, bytesIn = 0, bytesOut = 0, errors = 0;
  let open = 0, timedOut = 0;
  const work = config.work;
  const iterationsPerMs = config.iterationsPerMs ?? 1;
  let workMessages = 0;
  warmUpCpu(work, iterationsPerMs);
  // Sleeping connections in deadline order. Every sleep is the same length,
  // so deadlines arrive already sorted: a FIFO is the whole timer queue.
  const sleeping: { conn: Connection; until: number }[] = [];
  let sleepingHead = 0;

  let now = Date.now();
  const idle = new IdleSweep(idleTimeout, now);
  const poller = openPoller({ backend: config.backend });
  // Accepting a burst, and backing off when fds run out (see _loop_io.ts).
  const acceptor = new Acceptor({ listenFd, poller, maxConnections, what: "nonblocking", warn });
  poller.add(waker.readFd, READABLE);

  let stopping = false;
  while (!stopping) {
    // Sleep until something is ready, or until the accept back-off ends, the
    // next idle sweep is due, or the nearest --work sleep deadline passes
    // (-1: none of them, sleep for ever).
    let timeout = waitTimeout(acceptor, idle, now);
    if (sleepingHead < sleeping.length) {
      // Rounded up: waking early would only loop again.
      const untilDeadline = Math.max(
        0,
        Math.ceil(sleeping[sleepingHead].until - performance.now()),
      );
      timeout = timeout < 0 ? untilDeadline : Math.min(timeout, untilDeadline);
    }
    const n = poller.wait(timeout);
    if (timeout >= 0) now = Date.now(); // Only a timed wait needs the clock.
    if (n < 0) {
      checkWaitFailure(config.backend);
      continue;
    }

    for (let i = 0; i < n; i++) {
      const fd = poller.readyFd(i);
      const events = poller.readyEvents(i);
      if (fd === listenFd) {
        acceptor.acceptAll(open, addConnection);
      } else if (fd === waker.readFd) {
        waker.drain();
        if (Atomics.load(control, 0) !== 0) stopping = true;
      } else {
        const conn = conns[fd];
        if (conn) serviceConnection(conn, events);
      }
    }

    if (sleepingHead < sleeping.length) wakeSleepers();
    if (now >= idle.next) idle.sweep(now, conns, closeIdle);
    acceptor.resumeIfDue(now);
    publish();
  }

  // Stopping: every connection and the listener close; the kernel resets or
  // finishes them. Nothing is left for the next owner of these fd numbers.
  for (const conn of conns) if (conn) closeConnection(conn);
  libc.close(listenFd);
  poller.close();
  publish();

  // ---------------------------------------------------------------------------

  /** A new connection, already watched for reading. */
  function addConnection(fd: number): void {
    open++;
    conns[fd] = {
      fd,
      out: new PendingOutput(),
      interest: READABLE,
      peerClosed: false,
      heldUntil: 0,
      lastActive: now,
    };
  }

  /** Silent for `idleTimeout` (a client that never reads counts too): closed. */
  function closeIdle(conn: Connection): void {
    timedOut++;
    closeConnection(conn);
  }

  /** A connection is ready: flush what is pending, then read and echo. */
  function serviceConnection(conn: Connection, events: number): void {
    conn.lastActive = now;
    if (conn.heldUntil !== 0) {
      // Asleep: only an error or hang-up is reported, and it would be
      // reported again on every wait; the echo cannot be delivered anyway.
      if ((events & (ERROR | HANGUP)) !== 0) fail(conn);
      return;
    }
    if (conn.out.size > 0 && (events & (WRITABLE | ERROR | HANGUP)) !== 0) {
      if (!flush(conn)) return;
    }
    if ((conn.interest & READABLE) !== 0 && (events & (READABLE | ERROR | HANGUP)) !== 0) {
      readAndEcho(conn);
    }
  }

  /** One `recv`, then `send` the same bytes straight back. */
  function readAndEcho(conn: Connection): void {
    const r = recvSome(conn.fd, buf, readSize);
    if (r > 0) {
      bytesIn += r;
      if (work) {
        workMessages++;
        if (work.kind === "sleep") return sleep(conn, r);
        // block, cpu, file: right here, on the loop's only thread.
        doWorkSync(work, iterationsPerMs);
      }
      if (conn.out.size > 0) {
        // Earlier bytes are still queued; these must go after them.
        conn.out.append(buf, 0, r);
        updateInterest(conn);
        return;
      }
      const sent = sendSome(conn.fd, buf, r, flags);
      if (sent === r) {
        bytesOut += r; // The common case: all echoed, nothing kept.
        return;
      }
      if (sent === FAILED) return fail(conn);
      // The send buffer is full (a slow or non-reading client): keep the rest
      // and ask to be told when the socket is writable again.
      bytesOut += sent;
      conn.out.append(buf, sent, r);
      updateInterest(conn);
    } else if (r === 0) {
      // EOF: the client shut its write side (half-close) or closed. Echo what
      // is still pending, then close.
      if (conn.out.size === 0) return closeConnection(conn);
      conn.peerClosed = true;
      updateInterest(conn);
    } else if (r !== WOULD_BLOCK) {
      fail(conn); // ECONNRESET and friends end this connection only.
    }
  }

  /** Keeps the message and parks the connection until its sleep is over. */
  function sleep(conn: Connection, r: number): void {
    conn.out.append(buf, 0, r);
    conn.heldUntil = performance.now() + (work as { ms: number }).ms;
    sleeping.push({ conn, until: conn.heldUntil });
    updateInterest(conn);
  }

  /** Echoes for every connection whose sleep is over, and reads it again. */
  function wakeSleepers(): void {
    const now = performance.now();
    while (sleepingHead < sleeping.length && sleeping[sleepingHead].until <= now) {
      const { conn, until } = sleeping[sleepingHead];
      sleeping[sleepingHead++] = undefined as unknown as typeof sleeping[number];
      // A connection closed meanwhile (or its fd reused) is skipped.
      if (conns[conn.fd] !== conn || conn.heldUntil !== until) continue;
      conn.heldUntil = 0;
      flush(conn);
    }
    if (sleepingHead > 1024 && sleepingHead * 2 > sleeping.length) {
      sleeping.splice(0, sleepingHead);
      sleepingHead = 0;
    }
  }

  /**
   * Sends pending bytes.
   *
   * @returns False when the connection was closed.
   */
  function flush(conn: Connection): boolean {
    const sent = conn.out.flushTo(conn.fd, flags);
    if (sent === FAILED) {
      fail(conn);
      return false;
    }
    bytesOut += sent;
    if (conn.out.size === 0 && conn.peerClosed) {
      closeConnection(conn);
      return false;
    }
    updateInterest(conn);
    return true;
  }

  /**
   * Tells the poller what this connection waits for now. Reading stops while
   * pending output is over the bound — the backpressure that keeps a client
   * that never reads from growing our memory: its bytes stay in the kernel's
   * buffers, which fill, and then its own sends block.
   */
  function updateInterest(conn: Connection): void {
    const pending = conn.out.size;
    let want = 0;
    // Asleep: neither read nor written until the deadline.
    if (!conn.peerClosed && pending < maxBuffer && conn.heldUntil === 0) want |= READABLE;
    if (pending > 0 && conn.heldUntil === 0) want |= WRITABLE;
    if (want !== conn.interest) {
      poller.modify(conn.fd, want);
      conn.interest = want;
    }
  }

  function fail(conn: Connection): void {
    errors++;
    closeConnection(conn);
  }

  function closeConnection(conn: Connection): void {
    poller.forget(conn.fd);
    libc.close(conn.fd);
    conns[conn.fd] = undefined;
    open--;
    closed++;
  }

  /** Copies the local counters to shared memory: a few stores per loop turn, not per message. */
  function publish(): void {
    shared[LoopStat.accepted] = acceptor.accepted;
    // An accepted socket the poller refused was closed at once.
    shared[LoopStat.closed] = closed + acceptor.dropped;
    shared[LoopStat.bytesIn] = bytesIn;
    shared[LoopStat.bytesOut] = bytesOut;
    shared[LoopStat.errors] = errors + acceptor.errors;
    shared[LoopStat.rejected] = acceptor.rejected;
    shared[LoopStat.timedOut] = timedOut;
    shared[LoopStat.syscalls] = libc.syscallCount();
    shared[LoopStat.workMessages] = workMessages;
  }
}

/**
 * Starts a `nonblocking` echo server: binds on this thread (so bind errors
 * come back here), then runs {@linkcode runEchoLoop} on a Worker.
 *
 * @param options Where to listen, the backend, the buffer bound; `mode` is ignored.
 * @returns The running server.
 * @throws {LibcUnavailable} Without `--allow-ffi`, or on an unsupported OS/CPU.
 * @throws {UsageError} For a non-IPv4 host or `epoll` where it does not exist.
 *
 * @example Usage
 * ```ts ignore
 * import { serveNonblocking } from "./nonblocking.ts";
 * const server = await serveNonblocking({ mode: "nonblocking", port: 0, backend: "poll" });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 */
export async function serveNonblocking(options: ServeOptions): Promise<EchoServer> {
  const { hostname, port } = ffiBindAddress(options, { what: 'Mode "nonblocking"' });
  const backend = options.backend ?? defaultBackend();
  if (backend === "epoll" && !libc.platform().hasEpoll) {
    throw new UsageError(
      `Backend "epoll" is not available on ${Deno.build.os} (use --backend poll)`,
    );
  }

  // One fd per connection: allow as many as the hard limit permits.
  setFileLimit();
  if (options.reusePort) checkReusePort("--reuse-port in nonblocking mode", false);
  const { iterationsPerMs, notes } = prepareWork(options.work);

  const listener = listenForServer(options, hostname, port);
  const loop = await startLoopThread<EchoLoopConfig>({
    what: "nonblocking",
    worker: new URL("./nonblocking_worker.ts", import.meta.url),
    config: {
      listenFd: listener.fd,
      backend,
      ...echoLimits(options),
      work: options.work,
      iterationsPerMs,
    },
    statSlots: LoopStat.length,
    warn: warnOnce(options),
  });
  const shared = loop.stats;

  return {
    mode: "nonblocking",
    addr: { hostname: listener.addr.hostname, port: listener.addr.port },
    notes,
    stats(): ServerStats {
      return {
        ...loopStats(shared, LoopStat),
        ...(options.work ? { workMessages: shared[LoopStat.workMessages] } : {}),
      };
    },
    close: loop.close,
    closed: loop.closed,
  };
}
