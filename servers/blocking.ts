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
 * Stopping wakes every blocked call: the acceptor waits in `poll` on the
 * listener *and* a waker fd (a bare `accept` cannot be interrupted portably);
 * connection threads blocked in `recv`/`send` are woken by `shutdown()` on
 * their socket from the main thread.
 *
 * @module
 */
import { EchokitError, UsageError } from "../errors.ts";
import { listenError } from "./_listen_error.ts";
import * as libc from "./os/libc.ts";
import { attachWaker, openWaker, READABLE } from "./os/poller.ts";
import {
  acceptConnection,
  isIpv4Host,
  listenTcp,
  sendFlags,
  setNoDelay,
  type TcpListenerFd,
} from "./os/socket.ts";
import {
  DEFAULT_BACKLOG,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_THREADS,
  type EchoServer,
  type ServeOptions,
  type ServerStats,
} from "./types.ts";

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
}

/** Words of the control array. */
export const Control = {
  /** Non-zero: stop. */
  stop: 0,
  /** Connections handed to threads and not yet finished. */
  busy: 1,
  length: 2,
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
  width: 5,
} as const;

/** How long the acceptor pauses after running out of file descriptors. */
const EMFILE_BACKOFF_MS = 100;

/**
 * The acceptor: a bounded pool's front door. Blocks its thread until stopped.
 *
 * @param config Listener, waker, shared memory, pool cap.
 * @param spawn Asks the main thread to start connection thread `index`,
 *   whose mailbox already holds its first fd.
 */
export function runAcceptor(config: AcceptorConfig, spawn: (index: number) => void): void {
  const p = libc.platform();
  const control = new Int32Array(config.control);
  const jobs = new Int32Array(config.jobs);
  const states = new Int32Array(config.states);
  const counters = new Float64Array(config.counters);
  const row = config.maxThreads * ThreadStat.width;
  const waker = attachWaker({ readFd: config.wakeReadFd, writeFd: config.wakeWriteFd });
  const { listenFd, maxThreads } = config;
  let alive = config.prespawned;
  let cursor = 0;
  let accepted = 0, errors = 0;
  let loggedEmfile = false;

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
    while (busy >= maxThreads && !stopping()) {
      if (Atomics.wait(control, Control.busy, busy) === "ok") libc.countSyscalls(1);
      busy = Atomics.load(control, Control.busy);
    }
    if (stopping()) break;

    // 2. Block until a connection is queued (or we are woken to stop).
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
        if (!loggedEmfile) {
          loggedEmfile = true;
          console.error(
            `blocking: accept failed: ${libc.strerror(e)}; pausing accepts for ` +
              `${EMFILE_BACKOFF_MS} ms at a time (raise the open-files limit: ulimit -n)`,
          );
        }
        // Sleep, but wake at once on stop.
        Atomics.wait(control, Control.stop, 0, EMFILE_BACKOFF_MS);
      }
      publish();
      continue;
    }
    setNoDelay(fd);
    accepted++;

    // 3. Hand the connection to a thread. busy < maxThreads, and a thread marks
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
    if (index >= 0) {
      cursor = index + 1;
      // Store first, then notify: a thread woken before the store would see
      // an empty mailbox and sleep again, and the connection would be lost.
      Atomics.store(jobs, index, fd);
      if (Atomics.notify(jobs, index, 1) > 0) libc.countSyscalls(1);
    } else {
      index = alive++;
      Atomics.store(states, index, BUSY);
      Atomics.store(jobs, index, fd);
      spawn(index);
    }
    publish();
  }
  publish();

  function publish(): void {
    counters[row + ThreadStat.connections] = accepted;
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
  let finished = 0, bytesIn = 0, bytesOut = 0, errors = 0;

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
        if (Atomics.load(control, Control.stop) === 0) errors++;
        break;
      }
      bytesIn += r;
      let off = 0;
      while (off < r) {
        const s = libc.send(fd, off === 0 ? buf : buf.subarray(off), r - off, flags);
        if (s < 0) {
          if (libc.errno() === p.EINTR) continue;
          if (Atomics.load(control, Control.stop) === 0) errors++;
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

    // Back to the pool: IDLE first, then free the slot, then wake the
    // acceptor if it waits for one.
    Atomics.store(states, i, IDLE);
    Atomics.sub(control, Control.busy, 1);
    if (Atomics.notify(control, Control.busy, 1) > 0) libc.countSyscalls(1);
    counters[row + ThreadStat.syscalls] = libc.syscallCount();
  }
  counters[row + ThreadStat.syscalls] = libc.syscallCount();
}

/** One started connection thread, as the main thread sees it. */
interface ThreadHandle {
  worker: Worker;
  started: Promise<void>;
  exited: Promise<void>;
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
  const maxThreads = options.maxThreads ?? DEFAULT_MAX_THREADS;
  const prespawn = options.prespawn ?? 0;
  if (prespawn > maxThreads) {
    throw new UsageError(
      `Invalid prespawn "${prespawn}": more than --max-threads ${maxThreads} (lower --prespawn)`,
    );
  }
  const readSize = Math.max(1, Math.min(64 * 1024, options.maxBuffer ?? DEFAULT_MAX_BUFFER));
  const baselineRss = Deno.memoryUsage().rss;

  let listener: TcpListenerFd;
  try {
    listener = listenTcp({
      hostname,
      port,
      backlog: options.backlog ?? DEFAULT_BACKLOG,
      nonblocking: true,
    });
  } catch (err) {
    throw listenError(err, hostname, port);
  }
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

  const threads: ThreadHandle[] = [];
  let startMsTotal = 0;
  let startedCount = 0;

  function startThread(index: number): void {
    const t0 = performance.now();
    const worker = new Worker(new URL("./blocking_worker.ts", import.meta.url), {
      type: "module",
    });
    const started = Promise.withResolvers<void>();
    const exited = Promise.withResolvers<void>();
    worker.onmessage = (e: MessageEvent<{ kind: string }>) => {
      if (e.data.kind === "started") {
        startMsTotal += performance.now() - t0;
        startedCount++;
        started.resolve();
      }
      if (e.data.kind === "exited") exited.resolve();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      console.error(`blocking: connection thread ${index} failed: ${e.message}`);
      started.resolve();
      exited.resolve();
    };
    const config: ConnectionThreadConfig = { ...shared, index, readSize, maxThreads };
    worker.postMessage(config);
    threads[index] = { worker, started: started.promise, exited: exited.promise };
  }

  for (let i = 0; i < prespawn; i++) {
    states[i] = IDLE;
    startThread(i);
  }
  await Promise.all(threads.map((t) => t.started));

  const acceptor = new Worker(new URL("./blocking_acceptor_worker.ts", import.meta.url), {
    type: "module",
  });
  const acceptorReady = Promise.withResolvers<void>();
  const acceptorExited = Promise.withResolvers<void>();
  let failure: string | undefined;
  let acceptorStarted = false;
  acceptor.onmessage = (e: MessageEvent<{ kind: string; index?: number; message?: string }>) => {
    const msg = e.data;
    if (msg.kind === "spawn") startThread(msg.index!);
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
    prespawned: prespawn,
  };
  acceptor.postMessage(acceptorConfig);

  let closeCall: Promise<void> | undefined;
  const closedSignal = Promise.withResolvers<void>();

  function close(): Promise<void> {
    closeCall ??= (async () => {
      // 1. Stop the acceptor: flag, then wake it wherever it sleeps.
      Atomics.store(control, Control.stop, 1);
      waker.wake();
      Atomics.notify(control, Control.busy);
      Atomics.notify(control, Control.stop);
      if (!await withTimeout(acceptorExited.promise, 1000)) {
        console.error("blocking: the acceptor did not stop within 1 s; terminating it");
      }
      acceptor.terminate();
      libc.close(listener.fd);
      waker.close();
      // 2. Stop the connection threads. A mailbox fd nobody took yet is ours
      //    to close; a socket being served is shut down, which makes the
      //    thread's blocked recv/send return.
      for (let i = 0; i < threads.length; i++) {
        if (!threads[i]) continue;
        const unclaimed = Atomics.exchange(jobs, i, STOP);
        if (unclaimed >= 0) libc.close(unclaimed);
        Atomics.notify(jobs, i);
        const fd = Atomics.load(serving, i);
        if (fd >= 0) libc.shutdown(fd, libc.platform().SHUT_RDWR);
      }
      const live = threads.filter(Boolean);
      if (!await withTimeout(Promise.all(live.map((t) => t.exited)), 1000)) {
        console.error("blocking: connection threads did not stop within 1 s; terminating them");
      }
      for (const t of threads) t?.worker.terminate();
      if (failure && acceptorStarted) console.error(`blocking: the acceptor failed: ${failure}`);
      closedSignal.resolve();
    })();
    return closeCall;
  }

  try {
    await acceptorReady.promise;
  } catch (err) {
    await close();
    throw new EchokitError(
      `Mode "blocking" could not start its acceptor thread: ${(err as Error).message}`,
      { cause: err },
    );
  }
  acceptorExited.promise.then(() => {
    if (!closeCall) void close();
  });

  return {
    mode: "blocking",
    addr: { hostname: listener.addr.hostname, port: listener.addr.port },
    stats(): ServerStats {
      let closed = 0, bytesIn = 0, bytesOut = 0, errors = 0, syscalls = libc.syscallCount();
      for (let r = 0; r < threads.length; r++) {
        const o = r * ThreadStat.width;
        closed += counters[o + ThreadStat.connections];
        bytesIn += counters[o + ThreadStat.bytesIn];
        bytesOut += counters[o + ThreadStat.bytesOut];
        errors += counters[o + ThreadStat.errors];
        syscalls += counters[o + ThreadStat.syscalls];
      }
      const a = maxThreads * ThreadStat.width;
      const accepted = counters[a + ThreadStat.connections];
      const alive = threads.filter(Boolean).length;
      return {
        accepted,
        active: accepted - closed,
        closed,
        bytesIn,
        bytesOut,
        errors: errors + counters[a + ThreadStat.errors],
        syscalls: syscalls + counters[a + ThreadStat.syscalls],
        // Connection threads plus the acceptor.
        threads: alive + 1,
        threadMemoryBytes: Math.max(0, Deno.memoryUsage().rss - baselineRss),
        threadStartMs: startedCount ? Math.round(startMsTotal / startedCount * 10) / 10 : 0,
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
