/**
 * Runs a one-thread event loop (the `nonblocking` and `uring` modes) on a
 * Worker, so the main thread stays free for signals and `close()`: the
 * Worker gets the loop's config, the main thread reads its counters from
 * shared memory and stops it through a control word and a waker.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import { warnOnce } from "./_warn_once.ts";
import * as libc from "./os/libc.ts";
import type { Waker } from "./os/poller.ts";
import type { TcpListenerFd } from "./os/socket.ts";
import type { EchoServer, Mode, ServeOptions, ServerStats } from "./types.ts";

/** Slots of the shared stats array (a `Float64Array`) a loop publishes. */
export const LoopStat = {
  accepted: 0,
  closed: 1,
  bytesIn: 2,
  bytesOut: 3,
  errors: 4,
  syscalls: 5,
  workMessages: 6,
  rejected: 7,
  timedOut: 8,
  length: 9,
} as const;

/** What every loop's config holds; plain numbers, so it can be posted to a Worker. */
export interface LoopWorkerConfig {
  /** A bound, listening socket. */
  listenFd: number;
  /** Read end of the waker that asks the loop to stop. */
  wakeReadFd: number;
  /** Write end of the waker (same fd for an eventfd). */
  wakeWriteFd: number;
  /** Shared counters, published by the loop: see {@linkcode LoopStat}. */
  stats: SharedArrayBuffer;
  /** Shared control word: non-zero asks the loop to stop. */
  control: SharedArrayBuffer;
}

/** What {@linkcode startLoopWorker} starts. */
export interface LoopWorkerStart<C extends LoopWorkerConfig> {
  /** The mode, for `EchoServer.mode` and messages. */
  mode: Mode;
  /** The Worker module that runs the loop. */
  worker: URL;
  /** Posted to the Worker. */
  config: C;
  /** The listening socket named in `config` (closed here if the Worker fails to start). */
  listener: TcpListenerFd;
  /** The waker named in `config`. */
  waker: Waker;
  /** Notes of the server (`EchoServer.notes`). */
  notes?: string[];
}

/**
 * Starts the Worker, waits until its loop runs, and wraps it as an
 * {@linkcode EchoServer}.
 *
 * @param options The server's options (for warnings and `work`).
 * @param start The Worker, its config, listener and waker.
 * @returns The running server.
 * @throws {EchokitError} When the Worker cannot start.
 */
export async function startLoopWorker<C extends LoopWorkerConfig>(
  options: ServeOptions,
  start: LoopWorkerStart<C>,
): Promise<EchoServer> {
  const { mode, config, listener, waker } = start;
  const shared = new Float64Array(config.stats);
  const control = new Int32Array(config.control);

  const worker = new Worker(start.worker, { type: "module" });
  const ready = Promise.withResolvers<void>();
  const stopped = Promise.withResolvers<void>();
  let failure: string | undefined;
  const warn = warnOnce(options);
  worker.onmessage = (e: MessageEvent<{ kind: string; message?: string }>) => {
    // The loop's only warning: accept ran out of file descriptors.
    if (e.data.kind === "warning") warn("fds", e.data.message!);
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
    libc.close(listener.fd);
    waker.close();
    throw new EchokitError(
      `Mode "${mode}" could not start its loop thread: ${(err as Error).message}`,
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
        warn("stop", `${mode}: the loop did not stop within 1 s; terminating it`);
        stopped.resolve();
      }, 1000);
      await stopped.promise;
      clearTimeout(timer);
      worker.terminate();
      waker.close();
      if (failure) warn("failure", `${mode}: the loop failed: ${failure}`);
      closedSignal.resolve();
    })();
    return closeCall;
  }

  return {
    mode,
    addr: { hostname: listener.addr.hostname, port: listener.addr.port },
    notes: start.notes,
    stats(): ServerStats {
      const accepted = shared[LoopStat.accepted];
      const closedCount = shared[LoopStat.closed];
      const rejected = shared[LoopStat.rejected];
      return {
        accepted,
        active: accepted - closedCount - rejected,
        closed: closedCount,
        bytesIn: shared[LoopStat.bytesIn],
        bytesOut: shared[LoopStat.bytesOut],
        errors: shared[LoopStat.errors],
        rejected,
        timedOut: shared[LoopStat.timedOut],
        // The loop's calls plus this thread's (bind, listen, wake-ups).
        syscalls: shared[LoopStat.syscalls] + libc.syscallCount(),
        threads: 1,
        ...(options.work ? { workMessages: shared[LoopStat.workMessages] } : {}),
      };
    },
    close,
    closed: closedSignal.promise,
  };
}

/**
 * Runs a loop in a Worker's scope: receives the config, says it is ready,
 * runs the loop (blocking the thread), says when it stopped, and posts the
 * loop's warnings. The body of every loop Worker module.
 *
 * @param run The loop, called with the posted config and a warning callback.
 */
export function runLoopInWorker<C>(
  run: (config: C, warn: (message: string) => void) => void,
): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<C>) => void) | null;
    postMessage(message: unknown): void;
    close(): void;
  };
  scope.onmessage = (e) => {
    scope.onmessage = null;
    try {
      scope.postMessage({ kind: "ready" });
      run(e.data, (message) => scope.postMessage({ kind: "warning", message }));
      scope.postMessage({ kind: "stopped" });
    } catch (err) {
      scope.postMessage({ kind: "error", message: err instanceof Error ? err.stack : String(err) });
    }
    scope.close();
  };
}
