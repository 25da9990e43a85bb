/**
 * The acceptor thread of a `blocking` server: the bounded pool's front door.
 *
 * @module
 */
import { openFdCount } from "./_fd_limit.ts";
import {
  type AcceptorConfig,
  BASE_FDS,
  BUSY,
  Control,
  EMFILE_BACKOFF_MS,
  EMPTY,
  FD_RESERVE,
  FDS_PER_THREAD,
  IDLE,
  ThreadStat,
} from "./_blocking_shared.ts";
import * as libc from "./os/libc.ts";
import { attachWaker, READABLE } from "./os/poller.ts";
import { acceptConnection, setIoTimeout, setNoDelay } from "./os/socket.ts";

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
