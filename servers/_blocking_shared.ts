/**
 * What the threads of a `blocking` server share: the layout of the shared
 * memory they coordinate through, and each thread's configuration. Kept apart
 * so each Worker loads only its own part of the server (a smaller module
 * graph per isolate is less memory per thread).
 *
 * @module
 */
import type { Work } from "./work.ts";

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
export const BASE_FDS = 64;
/** File descriptors per connection thread: a Worker's own (6 measured), its socket, one spare. */
export const FDS_PER_THREAD = 8;
/** Descriptors kept free for the runtime and for connections handed to idle threads meanwhile. */
export const FD_RESERVE = 16;
/** How long the acceptor pauses after running out of file descriptors. */
export const EMFILE_BACKOFF_MS = 100;

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
