/**
 * A readiness loop on its own thread: the `nonblocking` server and the
 * `protocol` mode's own loop both block a Worker in `epoll_wait`/`poll`, so
 * the main thread stays free for signals and `close()`, and wake it through a
 * waker fd to stop. This is both halves of that hand-over, written once.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import * as libc from "./os/libc.ts";
import { openWaker, type Waker } from "./os/poller.ts";
import {
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_CONNECTIONS,
  type ServeOptions,
  type ServerStats,
} from "./types.ts";

/** The fields every loop's config carries (plain numbers and shared memory, so it can be posted). */
export interface LoopThreadConfig {
  /** A bound, listening, non-blocking socket. */
  listenFd: number;
  /** Read end of the waker that asks the loop to stop. */
  wakeReadFd: number;
  /** Write end of the waker (same fd for an eventfd). */
  wakeWriteFd: number;
  /** Shared counters the loop publishes (a `Float64Array`). */
  stats: SharedArrayBuffer;
  /** Shared control word: non-zero asks the loop to stop. */
  control: SharedArrayBuffer;
}

/** The limits an echo loop (`nonblocking`, `uring`) takes, each with its default. */
export interface EchoLimits {
  /** Bytes a connection may hold unsent. */
  maxBuffer: number;
  /** Connections at once. */
  maxConnections: number;
  /** Idle connections close after this long, ms (0: never). */
  idleTimeout: number;
}

/**
 * The server options' limits for an echo loop's config, defaults filled in.
 *
 * @param options The server's options.
 * @returns `maxBuffer`, `maxConnections` and `idleTimeout`.
 */
export function echoLimits(options: ServeOptions): EchoLimits {
  return {
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
  };
}

/** A loop running on its Worker. */
export interface LoopThread {
  /** The loop's published counters. */
  readonly stats: Float64Array;
  /** Asks the loop to stop (closing every connection and the listener) and waits for it. */
  close(): Promise<void>;
  /** Resolves once the loop has stopped and its thread is gone. */
  readonly closed: Promise<void>;
}

/** What {@linkcode startLoopThread} needs. */
export interface StartLoopThreadOptions<C extends LoopThreadConfig> {
  /** The server's name for messages (`nonblocking`). */
  what: string;
  /** The Worker module: one that calls {@linkcode runLoopWorker}. */
  worker: URL;
  /** The loop's config, without the fields this function fills in. */
  config: Omit<C, "wakeReadFd" | "wakeWriteFd" | "stats" | "control">;
  /** Slots in the shared stats array. */
  statSlots: number;
  /** Reports a warning once per kind. */
  warn: (kind: string, message: string) => void;
}

/**
 * Posts a loop's config to a new Worker and waits until the loop runs. On
 * failure the listener is closed.
 *
 * @param options The Worker, the config and where warnings go.
 * @returns The running loop.
 * @throws {EchokitError} When the Worker cannot start the loop (its message says why).
 */
export async function startLoopThread<C extends LoopThreadConfig>(
  options: StartLoopThreadOptions<C>,
): Promise<LoopThread> {
  const { what, warn } = options;
  const waker: Waker = openWaker();
  const config = {
    ...options.config,
    wakeReadFd: waker.readFd,
    wakeWriteFd: waker.writeFd,
    stats: new SharedArrayBuffer(options.statSlots * 8),
    control: new SharedArrayBuffer(4),
  } as C;
  const control = new Int32Array(config.control);
  const worker = new Worker(options.worker, { type: "module" });
  const ready = Promise.withResolvers<void>();
  const stopped = Promise.withResolvers<void>();
  let failure: string | undefined;
  worker.onmessage = (e: MessageEvent<{ kind: string; message?: string }>) => {
    if (e.data.kind === "warning") warn("loop", e.data.message!);
    if (e.data.kind === "ready") ready.resolve();
    if (e.data.kind === "stopped") stopped.resolve();
    if (e.data.kind === "error") {
      failure = e.data.message;
      ready.reject(new Error(failure));
      stopped.resolve();
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    failure = e.message;
    ready.reject(new Error(failure));
    stopped.resolve();
  };
  worker.postMessage(config);
  try {
    await ready.promise;
  } catch (err) {
    worker.terminate();
    libc.close(config.listenFd);
    waker.close();
    throw new EchokitError(
      `Mode "${what}" could not start its loop thread: ${(err as Error).message}`,
      { cause: err },
    );
  }

  let closeCall: Promise<void> | undefined;
  const closedSignal = Promise.withResolvers<void>();
  // The loop stopping on its own (a crash) also closes the server.
  stopped.promise.then(() => {
    if (!closeCall) void close();
  });

  function close(): Promise<void> {
    closeCall ??= (async () => {
      Atomics.store(control, 0, 1);
      waker.wake();
      const timer = setTimeout(() => {
        warn("stop", `${what}: the loop did not stop within 1 s; terminating it`);
        stopped.resolve();
      }, 1000);
      await stopped.promise;
      clearTimeout(timer);
      worker.terminate();
      waker.close();
      if (failure) warn("failure", `${what}: the loop failed: ${failure}`);
      closedSignal.resolve();
    })();
    return closeCall;
  }

  return { stats: new Float64Array(config.stats), close, closed: closedSignal.promise };
}

/**
 * The Worker half: receives the config, prepares (e.g. imports user code),
 * says it is ready, runs the loop (blocking this thread) and says when it
 * stopped. A failure before or during the loop is posted as an error.
 *
 * @param prepare Turns the config into the loop to run; may be async.
 */
export function runLoopWorker<C>(
  prepare: (
    config: C,
    warn: (message: string) => void,
  ) => (() => void | Promise<void>) | Promise<() => void | Promise<void>>,
): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<C>) => void) | null;
    postMessage(message: unknown): void;
    close(): void;
  };
  scope.onmessage = async (e) => {
    scope.onmessage = null;
    try {
      const run = await prepare(
        e.data,
        (message) => scope.postMessage({ kind: "warning", message }),
      );
      scope.postMessage({ kind: "ready" });
      await run();
      scope.postMessage({ kind: "stopped" });
    } catch (err) {
      scope.postMessage({ kind: "error", message: err instanceof Error ? err.stack : String(err) });
    }
    scope.close();
  };
}

/**
 * The slots every loop's shared stats array starts with, in this order; a
 * loop with counters of its own numbers them from `LOOP_STAT.length` up.
 */
export const LOOP_STAT = {
  accepted: 0,
  closed: 1,
  bytesIn: 2,
  bytesOut: 3,
  errors: 4,
  syscalls: 5,
  rejected: 6,
  timedOut: 7,
  length: 8,
} as const;

/** Where a loop's shared stats array keeps the counters every server has. */
export interface LoopStatSlots {
  /** Connections accepted. */
  accepted: number;
  /** Connections closed. */
  closed: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Connection errors. */
  errors: number;
  /** The loop thread's syscalls. */
  syscalls: number;
  /** Connections refused over the cap. */
  rejected: number;
  /** Connections closed for idling. */
  timedOut: number;
}

/**
 * A loop's published counters as {@linkcode ServerStats}.
 *
 * @param shared The loop's stats array.
 * @param slot Where each counter is in it.
 * @returns The counters, with `active` derived and this thread's syscalls added.
 *
 * @example Usage
 * ```ts ignore
 * const stats = loopStats(loop.stats, LoopStat);
 * ```
 */
export function loopStats(shared: Float64Array, slot: LoopStatSlots): ServerStats {
  const accepted = shared[slot.accepted];
  const closed = shared[slot.closed];
  const rejected = shared[slot.rejected];
  return {
    accepted,
    active: accepted - closed - rejected,
    closed,
    bytesIn: shared[slot.bytesIn],
    bytesOut: shared[slot.bytesOut],
    errors: shared[slot.errors],
    rejected,
    timedOut: shared[slot.timedOut],
    // The loop's calls plus this thread's (bind, listen, wake-ups).
    syscalls: shared[slot.syscalls] + libc.syscallCount(),
    threads: 1,
  };
}
