/**
 * The `blocking` model: one thread per connection, each making plain blocking
 * calls — `recv` sleeps until bytes arrive, `send` sleeps until they fit. The
 * code per connection is the simplest there is; the price is a whole thread
 * per client, and a Deno thread (a Worker: its own V8 isolate) is expensive:
 * several MB and tens of ms of CPU to start. So, as any real thread-per-
 * connection server does, threads are pooled and reused, and the pool is
 * capped: once every thread is busy, new connections wait in the kernel's
 * listen backlog until one frees up. That queueing is the model's lesson.
 *
 * Threads and what they block in:
 *
 * - **acceptor** (one Worker, {@linkcode runAcceptor}): waits for a free
 *   connection thread, then for a connection, accepts it and hands its fd (a
 *   plain number) to an idle connection thread through shared memory — store
 *   the fd, then `Atomics.notify` — or asks the main thread to start a new one.
 * - **connection threads** (pooled Workers, {@linkcode runConnectionThread}):
 *   `recv` → `send` → `recv` … until EOF, close, then wait for the next fd.
 * - **main thread**: never blocks; starts Workers (only it can: the acceptor is
 *   busy blocking), handles signals and `close()`, reads the stats.
 *
 * Limits, each in this model's own terms:
 *
 * - `maxThreads` is the pool: past it, connections wait in the backlog.
 *   `maxConnections` counts open connections, and each holds a thread, so it
 *   only binds when it is at most `maxThreads` (the pool is then cut to it):
 *   past it a connection is accepted and closed at once (`rejected`).
 * - The idle timeout is the kernel's: `SO_RCVTIMEO`/`SO_SNDTIMEO` on each
 *   connection make a blocked `recv` (or a `send` to a client that stopped
 *   reading) fail with `EAGAIN` after that long (`timedOut`).
 * - File descriptors: a Worker holds ~6 and Deno aborts the process when it
 *   cannot get them, so the acceptor counts the thread starts in flight and
 *   stops accepting while they might not fit under the open-files limit.
 *
 * Stopping wakes every blocked call: the acceptor waits in `poll` on the
 * listener *and* a waker fd (a bare `accept` cannot be interrupted portably);
 * connection threads blocked in `recv`/`send` are woken by `shutdown()` on
 * their socket from the main thread. `close()` resolves once every
 * connection is closed; the stopped threads' isolates are torn down after.
 *
 * With `--work`, a connection thread does the work between `recv` and `send`
 * with blocking calls — a sleep is a blocking sleep — and only its own
 * connection waits: that is what a thread per connection buys.
 *
 * @module
 */
import { EchokitError, UsageError } from "../util/errors.ts";
import { openFdCount } from "./_fd_limit.ts";
import { listenForServer } from "./_ffi_listen.ts";
import { prepareWork } from "./_message_handler.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { warnOnce } from "./_warn_once.ts";
import * as libc from "./os/libc.ts";
import { attachWaker, openWaker, READABLE } from "./os/poller.ts";
import {
  acceptConnection,
  isIpv4Host,
  sendFlags,
  setFileLimit,
  setIoTimeout,
  setNoDelay,
} from "./os/socket.ts";
import {
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_THREADS,
  type EchoServer,
  type ServeOptions,
  type ServerStats,
} from "./types.ts";
import { doWorkSync, type Work } from "./work.ts";

/** Shared memory of one blocking server; plain buffers, so it can be posted to Workers. */
export interface BlockingShared {
  /** `Int32Array`: {@linkcode Control} words. */
  control: SharedArrayBuffer;
  /** `Int32Array`, one word per thread: the fd handed to it, or `NO_JOB` / `STOP`. */
  jobs: SharedArrayBuffer;
  /** `Int32Array`, one word per thread: the fd it is serving now, or -1. */
  serving: SharedArrayBuffer;
  /** `Int32Array`, one word per thread: `EMPTY`, `IDLE` or `BUSY`. */
  states: SharedArrayBuffer;
  /** `Float64Array`, one row of {@linkcode ThreadStat} per thread, then the acceptor's row. */
  counters: SharedArrayBuffer;
}

/** What the acceptor needs. */
export interface AcceptorConfig extends BlockingShared {
  /** The listening socket (non-blocking: `poll` says when `accept` will not block). */
  listenFd: number;
  /** Read end of the waker that interrupts `poll` on stop. */
  wakeReadFd: number;
  /** Write end (same as read end for an eventfd). */
  wakeWriteFd: number;
  /** Pool cap. */
  maxThreads: number;
  /**
   * Most connections open at once; beyond it one is accepted and closed at
   * once. Only binds when it is at most `maxThreads` (otherwise the pool
   * fills first and connections wait in the backlog).
   */
  maxConnections: number;
  /** Milliseconds a connection may stay silent (`SO_RCVTIMEO`/`SO_SNDTIMEO`); 0: never. */
  idleTimeout: number;
  /** The soft open-files limit: no thread is started that could cross it. */
  fileLimit: number;
  /** Threads already started (indices 0 … prespawned-1). */
  prespawned: number;
}

/** What a connection thread needs. */
export interface ConnectionThreadConfig extends BlockingShared {
  /** This thread's slot. */
  index: number;
  /** Bytes per `recv`. */
  readSize: number;
  /** Pool cap (rows in the shared arrays). */
  maxThreads: number;
  /** Work per message (`--work`); none: a bare echo. */
  work?: Work;
  /** CPU rate for `cpu` work. */
  iterationsPerMs?: number;
}

/** Words of the control array. */
export const Control = {
  /** Non-zero: stop. */
  stop: 0,
  /** Connections handed to threads and not yet finished. */
  busy: 1,
  /** Thread slots in use so far (0 … slots-1), written by the acceptor. */
  slots: 2,
  /** Threads asked for and not yet running: their file descriptors are still to come. */
  starting: 3,
  /** Non-zero: stopped threads may exit (see {@linkcode runConnectionThread}). */
  release: 4,
  length: 5,
} as const;

/** Mailbox value: nothing to do. */
export const NO_JOB = -1;
/** Mailbox value: exit. */
export const STOP = -2;
/** Thread state: slot unused. */
export const EMPTY = 0;
/** Thread state: waiting for a connection. */
export const IDLE = 1;
/** Thread state: serving (or about to serve) a connection. */
export const BUSY = 2;

/** Columns of a counters row. */
export const ThreadStat = {
  /** Connections accepted (acceptor row) or finished (thread rows). */
  connections: 0,
  bytesIn: 1,
  bytesOut: 2,
  errors: 3,
  syscalls: 4,
  /** `Date.now()` when the spawner created the Worker. */
  spawnedAt: 5,
  /** `Date.now()` when the thread started running; -1 if it failed to start. */
  startedAt: 6,
  /** `Date.now()` when the thread exited. */
  exitedAt: 7,
  /** Messages the thread did `--work` for. */
  workMessages: 8,
  /** Connections closed at once over `maxConnections` (acceptor row). */
  rejected: 9,
  /** Connections closed for being silent past the idle timeout (thread rows). */
  timedOut: 10,
  width: 11,
} as const;

/** File descriptors a Deno process holds before any connection thread (~32 measured, plus room). */
const BASE_FDS = 64;
/** File descriptors per connection thread: a Worker's own (6 measured), its socket, one spare. */
const FDS_PER_THREAD = 8;
/** Descriptors kept free for the runtime and for connections handed to idle threads meanwhile. */
const FD_RESERVE = 16;
/** How long the acceptor pauses after running out of file descriptors. */
const EMFILE_BACKOFF_MS = 100;

/**
 * The acceptor: a bounded pool's front door. Blocks its thread until stopped.
 *
 * @param config Listener, waker, shared memory, pool cap.
 * @param spawn Asks the spawner thread to start connection thread `index`,
 *   whose mailbox already holds its first fd.
 * @param warn Reports a condition the user should see (the Worker posts it to
 *   the server's `onWarning`). @default {stderr}
 */
export function runAcceptor(
  config: AcceptorConfig,
  spawn: (index: number) => void,
  warn: (message: string) => void = console.error,
): void {
  const p = libc.platform();
  const control = new Int32Array(config.control);
  const jobs = new Int32Array(config.jobs);
  const states = new Int32Array(config.states);
  const counters = new Float64Array(config.counters);
  const row = config.maxThreads * ThreadStat.width;
  const waker = attachWaker({ readFd: config.wakeReadFd, writeFd: config.wakeWriteFd });
  const { listenFd, maxThreads, maxConnections, idleTimeout } = config;
  // With more connections allowed than threads, the pool is the cap that
  // binds: connections wait in the backlog. Otherwise the connection cap
  // binds first, and is enforced as in every mode, by accept-and-close.
  const queueing = maxThreads < maxConnections;
  let alive = config.prespawned;
  let cursor = 0;
  let accepted = 0, rejected = 0, errors = 0;
  let warnedFds = false;

  // struct pollfd[2]: the listener, and the waker that interrupts us on stop.
  const pollfds = new Uint8Array(16);
  const pfd = new Int32Array(pollfds.buffer);
  const pev = new Int16Array(pollfds.buffer);
  pfd[0] = listenFd;
  pev[2] = READABLE;
  pfd[2] = waker.readFd;
  pev[6] = READABLE;

  const stopping = () => Atomics.load(control, Control.stop) !== 0;
  while (!stopping()) {
    // 1. A bounded pool: while every thread is busy we do not accept, so new
    //    connections queue in the kernel's backlog (the client's connect has
    //    completed; its first reply just waits).
    let busy = Atomics.load(control, Control.busy);
    while (queueing && busy >= maxThreads && !stopping()) {
      if (Atomics.wait(control, Control.busy, busy) === "ok") libc.countSyscalls(1);
      busy = Atomics.load(control, Control.busy);
    }
    if (stopping()) break;

    // 2. Starting a thread costs file descriptors (a Worker holds ~6), and
    //    Deno aborts the whole process when a Worker cannot get them. Several
    //    starts can be under way at once, so before accepting a connection
    //    that needs a new thread, or while any start is pending, make sure
    //    the descriptors still to come fit under the limit; if not, leave
    //    connections in the backlog until a thread frees up or starts.
    const starting = Atomics.load(control, Control.starting);
    const needsStart = busy < maxConnections && !hasIdleThread();
    if ((needsStart || starting > 0) && !fdsAllow(starting + (needsStart ? 1 : 0))) {
      // Sleep, but wake at once when a thread frees up or on stop.
      Atomics.wait(control, Control.busy, busy, EMFILE_BACKOFF_MS);
      continue;
    }

    // 3. Block until a connection is queued (or we are woken to stop).
    if (libc.poll(pollfds, 2, -1) < 0) continue; // EINTR
    if (pev[7] !== 0) {
      waker.drain();
      continue;
    }
    const fd = acceptConnection(listenFd, false);
    if (fd < 0) {
      const e = libc.errno();
      if (e === p.EAGAIN || e === p.EINTR || e === p.ECONNABORTED) continue;
      errors++;
      if (e === p.EMFILE || e === p.ENFILE || e === p.ENOBUFS || e === p.ENOMEM) {
        warnFds(
          `blocking: accept failed: ${libc.strerror(e)}; pausing accepts for ` +
            `${EMFILE_BACKOFF_MS} ms at a time (raise the open-files limit: ulimit -n)`,
        );
        // Sleep, but wake at once on stop.
        Atomics.wait(control, Control.stop, 0, EMFILE_BACKOFF_MS);
      }
      publish();
      continue;
    }
    accepted++;
    if (Atomics.load(control, Control.busy) >= maxConnections) {
      // Over --max-connections: close at once, so the client learns now (EOF).
      libc.close(fd);
      rejected++;
      publish();
      continue;
    }
    setNoDelay(fd);
    // The kernel times out a silent client for us: the thread's blocked
    // recv (or send, to a client that stopped reading) fails with EAGAIN.
    if (idleTimeout > 0) setIoTimeout(fd, idleTimeout);

    // 4. Hand the connection to a thread. busy < maxThreads, and a thread marks
    //    itself IDLE before it decrements busy, so when every slot is started
    //    at least one of them is IDLE.
    Atomics.add(control, Control.busy, 1);
    let index = -1;
    for (let k = 0; k < alive; k++) {
      const i = (cursor + k) % alive;
      if (Atomics.compareExchange(states, i, IDLE, BUSY) === IDLE) {
        index = i;
        break;
      }
    }
    if (index < 0) {
      // A slot whose thread failed to start can be started again.
      for (let i = 0; i < alive; i++) {
        if (Atomics.compareExchange(states, i, EMPTY, BUSY) === EMPTY) {
          Atomics.store(jobs, i, fd);
          start(i);
          index = i;
          break;
        }
      }
      if (index >= 0) {
        publish();
        continue;
      }
    }
    if (index >= 0) {
      cursor = index + 1;
      // Store first, then notify: a thread woken before the store would see
      // an empty mailbox and sleep again, and the connection would be lost.
      Atomics.store(jobs, index, fd);
      if (Atomics.notify(jobs, index, 1) > 0) libc.countSyscalls(1);
    } else {
      index = alive++;
      Atomics.store(control, Control.slots, alive);
      Atomics.store(states, index, BUSY);
      Atomics.store(jobs, index, fd);
      start(index);
    }
    publish();
  }
  publish();

  function start(index: number): void {
    Atomics.add(control, Control.starting, 1);
    spawn(index);
  }

  /** Whether a started thread waits for a connection (only we hand them out, so it stays so). */
  function hasIdleThread(): boolean {
    for (let k = 0; k < alive; k++) {
      if (Atomics.load(states, (cursor + k) % alive) === IDLE) return true;
    }
    return false;
  }

  /** Whether `starts` more threads (and a connection) fit under the open-files limit. */
  function fdsAllow(starts: number): boolean {
    // Counting /proc/self/fd is exact and costs a few syscalls: done only
    // when a thread is to start, which costs far more.
    const open = openFdCount() ?? BASE_FDS + alive * FDS_PER_THREAD;
    libc.countSyscalls(3);
    if (open + starts * FDS_PER_THREAD + 1 + FD_RESERVE <= config.fileLimit) return true;
    warnFds(
      `blocking: not starting another thread: ${open} files open and ${starts} thread ` +
        `start(s) to come would near the open-file limit of ${config.fileLimit}; new ` +
        `connections wait in the backlog until a thread is free (raise it: ulimit -n)`,
    );
    return false;
  }

  /** One warning about file descriptors per server, whichever way they ran out. */
  function warnFds(message: string): void {
    if (warnedFds) return;
    warnedFds = true;
    warn(message);
  }

  function publish(): void {
    counters[row + ThreadStat.connections] = accepted;
    counters[row + ThreadStat.rejected] = rejected;
    counters[row + ThreadStat.errors] = errors;
    counters[row + ThreadStat.syscalls] = libc.syscallCount();
  }
}

/**
 * One connection thread: takes an fd from its mailbox, echoes with blocking
 * `recv`/`send` until EOF, closes, goes back to the pool. Blocks its thread
 * until told to stop.
 *
 * @param config Its slot and the shared memory.
 */
export function runConnectionThread(config: ConnectionThreadConfig): void {
  const p = libc.platform();
  const control = new Int32Array(config.control);
  const jobs = new Int32Array(config.jobs);
  const serving = new Int32Array(config.serving);
  const states = new Int32Array(config.states);
  const counters = new Float64Array(config.counters);
  const i = config.index;
  const row = i * ThreadStat.width;
  const flags = sendFlags();
  const buf = new Uint8Array(config.readSize);
  const { work, iterationsPerMs = 1 } = config;
  let finished = 0, bytesIn = 0, bytesOut = 0, errors = 0, workMessages = 0, timedOut = 0;
  counters[row + ThreadStat.startedAt] = Date.now();
  // Running: our file descriptors are taken, no longer to come.
  Atomics.sub(control, Control.starting, 1);

  while (true) {
    // Sleep until the acceptor hands us a connection. Taking it with an
    // exchange means exactly one of us and a stopping main thread owns it.
    let fd = Atomics.exchange(jobs, i, NO_JOB);
    while (fd === NO_JOB) {
      if (Atomics.wait(jobs, i, NO_JOB) === "ok") libc.countSyscalls(1);
      fd = Atomics.exchange(jobs, i, NO_JOB);
    }
    if (fd === STOP) break;
    Atomics.store(serving, i, fd);
    // Stop may have been asked just before we published `serving` (then the
    // main thread could not shut our socket down): check after publishing.
    if (Atomics.load(control, Control.stop) !== 0) {
      Atomics.store(serving, i, -1);
      libc.close(fd);
      counters[row + ThreadStat.connections] = ++finished;
      break;
    }

    // The whole model: sleep in recv until bytes come, sleep in send until
    // they are all out. A client that never reads fills its buffers, our send
    // sleeps, and we stop reading: bounded memory for free.
    echo: while (true) {
      const r = libc.recv(fd, buf, buf.length, 0);
      if (r === 0) break; // EOF: everything read was already echoed.
      if (r < 0) {
        const e = libc.errno();
        if (e === p.EINTR) continue;
        // EAGAIN on a blocking socket: its SO_RCVTIMEO ran out (idle timeout).
        if (e === p.EAGAIN) timedOut++;
        else if (Atomics.load(control, Control.stop) === 0) errors++;
        break;
      }
      bytesIn += r;
      if (work) {
        // Blocking, on this connection's own thread: nobody else waits.
        doWorkSync(work, iterationsPerMs);
        counters[row + ThreadStat.workMessages] = ++workMessages;
      }
      let off = 0;
      while (off < r) {
        const s = libc.send(fd, off === 0 ? buf : buf.subarray(off), r - off, flags);
        if (s < 0) {
          const e = libc.errno();
          if (e === p.EINTR) continue;
          // SO_SNDTIMEO ran out: the client stopped reading for the idle timeout.
          if (e === p.EAGAIN) timedOut++;
          else if (Atomics.load(control, Control.stop) === 0) errors++;
          break echo;
        }
        off += s;
      }
      bytesOut += r;
      // Plain stores (no Atomics): a few nanoseconds per message.
      counters[row + ThreadStat.bytesIn] = bytesIn;
      counters[row + ThreadStat.bytesOut] = bytesOut;
      counters[row + ThreadStat.syscalls] = libc.syscallCount();
    }

    Atomics.store(serving, i, -1);
    libc.close(fd);
    finished++;
    counters[row + ThreadStat.connections] = finished;
    counters[row + ThreadStat.bytesIn] = bytesIn;
    counters[row + ThreadStat.bytesOut] = bytesOut;
    counters[row + ThreadStat.errors] = errors;
    counters[row + ThreadStat.timedOut] = timedOut;

    // Back to the pool: IDLE first, then free the slot, then wake the
    // acceptor if it waits for one.
    Atomics.store(states, i, IDLE);
    Atomics.sub(control, Control.busy, 1);
    if (Atomics.notify(control, Control.busy, 1) > 0) libc.countSyscalls(1);
    counters[row + ThreadStat.syscalls] = libc.syscallCount();
  }
  counters[row + ThreadStat.syscalls] = libc.syscallCount();
  counters[row + ThreadStat.exitedAt] = Date.now();
  // Stopped. Exiting tears down this thread's isolate: tens of ms of CPU,
  // which a hundred threads at once would take from the main thread while it
  // still closes the server (and, in the CLI, prints the stats and exits,
  // which ends us at no cost). So sleep until the main thread lets us go.
  while (Atomics.load(control, Control.release) === 0) {
    Atomics.wait(control, Control.release, 0);
  }
}

/** What the spawner needs. */
export interface SpawnerConfig extends BlockingShared {
  /** Bytes per `recv`. */
  readSize: number;
  /** Pool cap (rows in the shared arrays). */
  maxThreads: number;
  /** Work per message (`--work`); none: a bare echo. */
  work?: Work;
  /** CPU rate for `cpu` work. */
  iterationsPerMs?: number;
}

/**
 * The spawner: creates connection threads on request. Creating a Worker
 * blocks the creating thread until the new isolate exists (tens of ms, and
 * seconds on a busy machine), so it is done here and not on the main thread,
 * which must stay free for signals.
 *
 * @param config Shared memory and what each thread needs.
 * @returns A function that starts connection thread `index` (call it for each request).
 */
export function createSpawner(config: SpawnerConfig): (index: number) => void {
  const control = new Int32Array(config.control);
  const jobs = new Int32Array(config.jobs);
  const states = new Int32Array(config.states);
  const counters = new Float64Array(config.counters);
  return (index: number) => {
    const row = index * ThreadStat.width;
    counters[row + ThreadStat.spawnedAt] = Date.now();
    counters[row + ThreadStat.startedAt] = 0;
    counters[row + ThreadStat.exitedAt] = 0;
    const worker = new Worker(new URL("./blocking_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      console.error(`blocking: connection thread ${index} failed: ${e.message}`);
      counters[row + ThreadStat.errors]++;
      if (counters[row + ThreadStat.startedAt] === 0) {
        // It never took its connection: close that, free the slot for a retry.
        counters[row + ThreadStat.startedAt] = -1;
        Atomics.sub(control, Control.starting, 1);
        const fd = Atomics.exchange(jobs, index, NO_JOB);
        if (fd >= 0) {
          libc.close(fd);
          counters[row + ThreadStat.connections]++;
        }
        Atomics.store(states, index, EMPTY);
        Atomics.sub(control, Control.busy, 1);
        Atomics.notify(control, Control.busy);
      }
      counters[row + ThreadStat.exitedAt] = Date.now();
    };
    const threadConfig: ConnectionThreadConfig = { ...config, index };
    worker.postMessage(threadConfig);
  };
}

/**
 * Starts a `blocking` echo server.
 *
 * @param options Where to listen, the pool cap and prespawn, the read size bound; `mode` is ignored.
 * @returns The running server.
 * @throws {LibcUnavailable} Without `--allow-ffi`, or on an unsupported OS/CPU.
 * @throws {UsageError} For a non-IPv4 host or `prespawn` above `maxThreads`.
 *
 * @example Usage
 * ```ts ignore
 * import { serveBlocking } from "./blocking.ts";
 * const server = await serveBlocking({ mode: "blocking", port: 0, maxThreads: 16, prespawn: 2 });
 * console.log(server.stats().threads);
 * await server.close();
 * ```
 */
export async function serveBlocking(options: ServeOptions): Promise<EchoServer> {
  libc.requireLibc('Mode "blocking"');
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!isIpv4Host(hostname)) {
    throw new UsageError(
      `Mode "blocking" binds IPv4 only, not "${hostname}" (use an IPv4 address such as 127.0.0.1)`,
    );
  }
  const warn = warnOnce(options);
  let maxThreads = options.maxThreads ?? DEFAULT_MAX_THREADS;
  let prespawn = options.prespawn ?? 0;
  if (prespawn > maxThreads) {
    throw new UsageError(
      `Invalid prespawn "${prespawn}": more than --max-threads ${maxThreads} (lower --prespawn)`,
    );
  }
  const readSize = Math.max(1, Math.min(64 * 1024, options.maxBuffer ?? DEFAULT_MAX_BUFFER));
  // Each Worker holds file descriptors of its own (6 measured on Linux, Deno
  // 2.9), and Deno aborts the whole process when one cannot get them. So the
  // open-files limit is raised as far as allowed, and the acceptor starts a
  // thread only while its descriptors fit (runAcceptor); past that, new
  // connections wait in the backlog, as they do past --max-threads.
  const notes: string[] = [];
  const files = setFileLimit();
  const fitting = Math.floor((files.soft - BASE_FDS) / FDS_PER_THREAD);
  if (fitting < 1) {
    throw new EchokitError(
      `Mode "blocking" cannot run a thread within the open-files limit of ${files.soft} ` +
        `(raise it: ulimit -n ${BASE_FDS + 8 * FDS_PER_THREAD})`,
    );
  }
  if (fitting < maxThreads) {
    notes.push(
      `blocking: the open-files limit of ${files.soft} fits about ${fitting} threads; ` +
        `past that, new connections wait in the backlog (raise it: ulimit -n)`,
    );
    // Threads beyond what the descriptors allow can never run: no slots for them.
    maxThreads = Math.min(maxThreads, Math.floor(files.soft / (FDS_PER_THREAD - 1)));
  }
  // Prespawned threads start before the acceptor guards the descriptors.
  prespawn = Math.min(prespawn, fitting);
  // Every open connection holds a thread, so with a connection cap at or
  // below the thread cap, the connection cap is the one that binds: threads
  // beyond it would never be used, and connections beyond it are accepted and
  // closed (counted as rejected), as in every mode. Above the thread cap, the
  // pool fills first and connections wait in the backlog instead.
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  maxThreads = Math.min(maxThreads, maxConnections);
  prespawn = Math.min(prespawn, maxThreads);
  if (maxThreads >= maxConnections) {
    notes.push(
      `blocking: at most ${maxConnections} connections, one thread each; further ` +
        `connections are accepted and closed (--max-connections)`,
    );
  } else if (fitting >= maxThreads) {
    notes.push(`blocking: at most ${maxThreads} threads; further connections wait in the backlog`);
  }
  if (options.reusePort) checkReusePort("--reuse-port in blocking mode", false);
  const prepared = prepareWork(options.work);
  notes.push(...prepared.notes);
  const baselineRss = Deno.memoryUsage().rss;

  const listener = listenForServer(options, hostname, port);
  const waker = openWaker();
  const shared: BlockingShared = {
    control: new SharedArrayBuffer(Control.length * 4),
    jobs: new SharedArrayBuffer(maxThreads * 4),
    serving: new SharedArrayBuffer(maxThreads * 4),
    states: new SharedArrayBuffer(maxThreads * 4),
    counters: new SharedArrayBuffer((maxThreads + 1) * ThreadStat.width * 8),
  };
  const control = new Int32Array(shared.control);
  const jobs = new Int32Array(shared.jobs).fill(NO_JOB);
  const serving = new Int32Array(shared.serving).fill(-1);
  const states = new Int32Array(shared.states);
  const counters = new Float64Array(shared.counters);
  const col = (i: number, c: number) => counters[i * ThreadStat.width + c];

  // The spawner gets requests from us (prespawn) and from the acceptor,
  // through a channel whose other end the acceptor holds.
  const spawner = new Worker(new URL("./blocking_spawner_worker.ts", import.meta.url), {
    type: "module",
  });
  let failure: string | undefined;
  spawner.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    failure = e.message;
  };
  const channel = new MessageChannel();
  const spawnerConfig: SpawnerConfig = {
    ...shared,
    readSize,
    maxThreads,
    work: options.work,
    iterationsPerMs: prepared.iterationsPerMs,
  };
  spawner.postMessage({ config: spawnerConfig, port: channel.port2 }, [channel.port2]);

  Atomics.store(control, Control.slots, prespawn);
  for (let i = 0; i < prespawn; i++) {
    states[i] = IDLE;
    Atomics.add(control, Control.starting, 1);
    spawner.postMessage({ index: i });
  }
  while (
    !failure && Array.from({ length: prespawn }, (_, i) => col(i, ThreadStat.startedAt)).includes(0)
  ) {
    await new Promise((r) => setTimeout(r, 10));
  }

  const acceptor = new Worker(new URL("./blocking_acceptor_worker.ts", import.meta.url), {
    type: "module",
  });
  const acceptorReady = Promise.withResolvers<void>();
  const acceptorExited = Promise.withResolvers<void>();
  let acceptorStarted = false;
  acceptor.onmessage = (e: MessageEvent<{ kind: string; message?: string }>) => {
    const msg = e.data;
    // The acceptor's only warnings are about file descriptors (one per server).
    if (msg.kind === "warning") warn("fds", msg.message!);
    else if (msg.kind === "ready") {
      acceptorStarted = true;
      acceptorReady.resolve();
    } else if (msg.kind === "exited") acceptorExited.resolve();
    else if (msg.kind === "error") {
      failure = msg.message;
      acceptorReady.reject(new Error(failure));
      acceptorExited.resolve();
    }
  };
  acceptor.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    failure = e.message;
    acceptorReady.reject(new Error(failure));
    acceptorExited.resolve();
  };
  const acceptorConfig: AcceptorConfig = {
    ...shared,
    listenFd: listener.fd,
    wakeReadFd: waker.readFd,
    wakeWriteFd: waker.writeFd,
    maxThreads,
    maxConnections,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    fileLimit: files.soft,
    prespawned: prespawn,
  };
  acceptor.postMessage({ config: acceptorConfig, port: channel.port1 }, [channel.port1]);

  let closeCall: Promise<void> | undefined;
  const closedSignal = Promise.withResolvers<void>();
  let mainClosed = 0;
  let stopped = false;

  /** Connections accepted and not yet closed, from the shared counters. */
  function openConnections(): number {
    let closed = mainClosed;
    const slots = Atomics.load(control, Control.slots);
    for (let i = 0; i < slots; i++) closed += col(i, ThreadStat.connections);
    return col(maxThreads, ThreadStat.connections) - col(maxThreads, ThreadStat.rejected) - closed;
  }

  function close(): Promise<void> {
    closeCall ??= (async () => {
      // 1. Stop the acceptor: flag, then wake it wherever it sleeps.
      Atomics.store(control, Control.stop, 1);
      waker.wake();
      Atomics.notify(control, Control.busy);
      Atomics.notify(control, Control.stop);
      if (!await withTimeout(acceptorExited.promise, 1000)) {
        warn("stop", "blocking: the acceptor did not stop within 1 s; terminating it");
      }
      acceptor.terminate();
      libc.close(listener.fd);
      waker.close();
      // 2. Stop the connection threads. A mailbox fd nobody took yet is ours
      //    to close; a socket being served is shut down, which makes the
      //    thread's blocked recv/send return.
      const slots = Atomics.load(control, Control.slots);
      for (let i = 0; i < slots; i++) {
        const unclaimed = Atomics.exchange(jobs, i, STOP);
        if (unclaimed >= 0) {
          libc.close(unclaimed);
          mainClosed++;
        }
        Atomics.notify(jobs, i);
        const fd = Atomics.load(serving, i);
        if (fd >= 0) libc.shutdown(fd, libc.platform().SHUT_RDWR);
      }
      // 3. Wait until every connection is closed, not for the threads to
      //    exit: tearing down a Worker's isolate takes CPU (tens of ms each,
      //    seconds for a hundred on a busy machine) that would only delay the
      //    stop. Stopped threads sleep until released, just after close()
      //    resolves (so a process that exits then never pays for it); threads
      //    still starting will find STOP in their mailbox.
      const deadline = Date.now() + 1000;
      while (openConnections() > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      if (openConnections() > 0) {
        warn("stop-threads", "blocking: connection threads did not stop within 1 s; leaving them");
      }
      spawner.terminate();
      if (failure && acceptorStarted) warn("failure", `blocking: a thread failed: ${failure}`);
      stopped = true;
      closedSignal.resolve();
      setTimeout(() => {
        Atomics.store(control, Control.release, 1);
        Atomics.notify(control, Control.release);
      }, 0);
    })();
    return closeCall;
  }

  try {
    if (failure) throw new Error(failure);
    await acceptorReady.promise;
  } catch (err) {
    await close();
    throw new EchokitError(
      `Mode "blocking" could not start its threads: ${(err as Error).message}`,
      { cause: err },
    );
  }
  acceptorExited.promise.then(() => {
    if (!closeCall) void close();
  });

  return {
    mode: "blocking",
    notes,
    addr: { hostname: listener.addr.hostname, port: listener.addr.port },
    stats(): ServerStats {
      let closed = mainClosed, bytesIn = 0, bytesOut = 0, errors = 0, timedOut = 0;
      let syscalls = libc.syscallCount();
      let alive = 0, started = 0, startMs = 0, workMessages = 0;
      const slots = Atomics.load(control, Control.slots);
      for (let i = 0; i < slots; i++) {
        closed += col(i, ThreadStat.connections);
        bytesIn += col(i, ThreadStat.bytesIn);
        bytesOut += col(i, ThreadStat.bytesOut);
        errors += col(i, ThreadStat.errors);
        timedOut += col(i, ThreadStat.timedOut);
        syscalls += col(i, ThreadStat.syscalls);
        workMessages += col(i, ThreadStat.workMessages);
        const startedAt = col(i, ThreadStat.startedAt);
        if (startedAt > 0) {
          started++;
          startMs += startedAt - col(i, ThreadStat.spawnedAt);
          if (col(i, ThreadStat.exitedAt) === 0) alive++;
        }
      }
      const accepted = col(maxThreads, ThreadStat.connections);
      const rejected = col(maxThreads, ThreadStat.rejected);
      return {
        accepted,
        active: accepted - rejected - closed,
        closed,
        bytesIn,
        bytesOut,
        errors: errors + col(maxThreads, ThreadStat.errors),
        rejected,
        timedOut,
        syscalls: syscalls + col(maxThreads, ThreadStat.syscalls),
        // Connection threads, plus the acceptor and the spawner while serving;
        // once stopped, none serves (idle ones may still be winding down).
        threads: stopped ? 0 : alive + (closeCall ? 0 : 2),
        threadMemoryBytes: Math.max(0, Deno.memoryUsage().rss - baselineRss),
        threadStartMs: started ? Math.round(startMs / started) : 0,
        ...(options.work ? { workMessages } : {}),
      };
    },
    close,
    closed: closedSignal.promise,
  };
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inTime = await Promise.race([
    promise.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  return inTime;
}
