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
import {
  type AcceptorConfig,
  BASE_FDS,
  type BlockingShared,
  Control,
  FDS_PER_THREAD,
  IDLE,
  NO_JOB,
  type SpawnerConfig,
  STOP,
  ThreadStat,
} from "./_blocking_shared.ts";
import { ffiBindAddress, listenForServer } from "./_ffi_listen.ts";
import { prepareWork } from "./_message_handler.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { warnOnce } from "./_warn_once.ts";
import * as libc from "./os/libc.ts";
import { openWaker } from "./os/poller.ts";
import { setFileLimit } from "./os/socket.ts";
import {
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_THREADS,
  type EchoServer,
  type ServeOptions,
  type ServerStats,
} from "./types.ts";

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
  const { hostname, port } = ffiBindAddress(options, { what: 'Mode "blocking"' });
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
  // The whole pool starts before we accept (and so before a load generator
  // waiting for the listening line starts its clock); what it costs is
  // measured here, apart from any load: the lesson of the model.
  const prespawnStart = performance.now();
  while (
    !failure && Array.from({ length: prespawn }, (_, i) => col(i, ThreadStat.startedAt)).includes(0)
  ) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const prespawnMs = Math.round(performance.now() - prespawnStart);
  // Includes the spawner thread's isolate: 1/N of the figure, noise at N ≥ 100.
  const prespawnBytes = prespawn ? Math.max(0, Deno.memoryUsage().rss - baselineRss) : 0;

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
        ...(prespawn ? { prespawned: prespawn, prespawnMs, prespawnBytes } : {}),
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
