/**
 * A connection thread of a `blocking` server: blocking `recv` and `send` on
 * one connection at a time.
 *
 * @module
 */
import {
  type ConnectionThreadConfig,
  Control,
  IDLE,
  NO_JOB,
  STOP,
  ThreadStat,
} from "./_blocking_shared.ts";
import * as libc from "./os/libc.ts";
import { sendFlags } from "./os/socket.ts";
import { doWorkSync } from "./work.ts";

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
