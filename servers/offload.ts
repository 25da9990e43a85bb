/**
 * Offloading a handler's work to a pool (`serve --offload`): the
 * thread-executor and process-executor models (Python's `run_in_executor`
 * with a `ThreadPoolExecutor` or a `ProcessPoolExecutor`).
 *
 * The server hands each message to the pool and writes whatever comes back.
 * Each pool member runs one task at a time, synchronously (a sleep blocks
 * that member, as `time.sleep` blocks an executor thread); tasks wait in one
 * FIFO queue when every member is busy. The queue's depth and the time tasks
 * wait in it are counted, because that is where an overloaded pool shows.
 *
 * - `threads[:N]` — N Workers (each a V8 isolate, several MB) in the server
 *   process. The message is copied to the Worker and the reply copied back.
 * - `processes[:N]` — N child processes (`echokit _offload-worker`), each a
 *   whole runtime (tens of MB); messages cross a pipe in length-prefixed
 *   frames, the cost `pickle` has in Python. Children are in the server's
 *   process tree, so the load generator counts their CPU and memory.
 *
 * A member that dies breaks the pool: its task and every queued one fail
 * (their connections close with an error), as with Python's `BrokenProcessPool`.
 *
 * @module
 */
import { EchokitError, UsageError } from "../util/errors.ts";
import { echokitArgv } from "./child.ts";
import type { Offload } from "./types.ts";
import { formatWork, type Work } from "./work.ts";

export type { Offload };

/**
 * Worker entry modules the thread pool starts, as paths from the repository
 * root, for `deno compile --include`.
 */
export const OFFLOAD_WORKER_MODULES: readonly string[] = ["servers/offload_worker.ts"];

/** Largest pool accepted. */
const MAX_POOL = 1024;

/**
 * The pool size used when none is given: for processes one per CPU (more only
 * adds switching); for threads Python's `ThreadPoolExecutor` default,
 * min(32, CPUs + 4), because threads mostly wait.
 *
 * @param kind The pool kind.
 * @param cpus CPUs to size for. @default {navigator.hardwareConcurrency}
 * @returns The default size.
 *
 * @example Usage
 * ```ts
 * import { defaultOffloadSize } from "./offload.ts";
 * console.log(defaultOffloadSize("threads", 2)); // 6
 * ```
 */
export function defaultOffloadSize(
  kind: Offload["kind"],
  cpus: number = navigator.hardwareConcurrency || 1,
): number {
  return kind === "processes" ? cpus : Math.min(32, cpus + 4);
}

/**
 * Parses an `--offload` value: `threads`, `threads:N`, `processes` or `processes:N`.
 *
 * @param raw The text given.
 * @returns The pool to use.
 * @throws {UsageError} On any other form.
 *
 * @example Usage
 * ```ts
 * import { parseOffload } from "./offload.ts";
 * console.log(parseOffload("processes:2")); // { kind: "processes", size: 2 }
 * ```
 */
export function parseOffload(raw: string): Offload {
  const m = /^(threads|processes)(?::(\d+))?$/.exec(raw);
  if (!m) {
    throw new UsageError(`Invalid --offload "${raw}" (use threads[:N] or processes[:N])`);
  }
  const kind = m[1] as Offload["kind"];
  const size = m[2] === undefined ? defaultOffloadSize(kind) : Number(m[2]);
  if (size < 1 || size > MAX_POOL) {
    throw new UsageError(
      `Invalid --offload "${raw}" (use a pool size from 1 to ${MAX_POOL})`,
    );
  }
  return { kind, size };
}

/**
 * Formats an offload back into the `--offload` form.
 *
 * @param offload The pool.
 * @returns The flag value (`threads:6`).
 *
 * @example Usage
 * ```ts
 * import { formatOffload } from "./offload.ts";
 * console.log(formatOffload({ kind: "threads", size: 6 })); // "threads:6"
 * ```
 */
export function formatOffload(offload: Offload): string {
  return `${offload.kind}:${offload.size}`;
}

/** Counters of a pool, merged into the server's stats. */
export interface OffloadStats {
  /** Members in the pool. */
  offloadPool: number;
  /** Tasks completed. */
  offloadTasks: number;
  /** Most tasks waiting in the queue at once. */
  offloadQueueMax: number;
  /** Total time tasks waited in the queue before a member took them, ms. */
  offloadWaitMs: number;
}

/** How to start a pool. */
export interface OffloadPoolOptions extends Offload {
  /** Work each task does before returning its message; none: the message comes straight back. */
  work?: Work;
  /** The CPU rate for `cpu` work (from `calibrateCpu`), so members need not calibrate. */
  iterationsPerMs?: number;
}

/** Called with a task's reply, or with the error that ended it. */
export type TaskCallback = (err: Error | null, reply?: Uint8Array) => void;

interface Task {
  data: Uint8Array;
  done: TaskCallback;
  queuedAt: number;
}

/** One pool member: a Worker or a child process, running one task at a time. */
interface Member {
  send(data: Uint8Array): void;
  close(): Promise<void>;
}

/**
 * A fixed pool of Workers or child processes with one FIFO queue.
 *
 * @example Usage
 * ```ts ignore
 * import { OffloadPool } from "./offload.ts";
 * const pool = await OffloadPool.start({ kind: "threads", size: 2, work: { kind: "block", ms: 5 } });
 * const reply = await pool.run(new TextEncoder().encode("hi"));
 * console.log(reply.length, pool.stats().offloadTasks);
 * await pool.close();
 * ```
 */
export class OffloadPool {
  readonly #idle: Member[] = [];
  readonly #running = new Map<Member, Task>();
  readonly #queue: Task[] = [];
  #queueHead = 0;
  #broken: Error | undefined;
  #closing = false;
  readonly #members: Member[] = [];
  readonly #stats: OffloadStats;

  private constructor(size: number) {
    this.#stats = { offloadPool: size, offloadTasks: 0, offloadQueueMax: 0, offloadWaitMs: 0 };
  }

  /**
   * Starts every member and resolves once all are ready and have answered
   * one empty warm-up message (no work is done for it), so start-up and
   * first-use costs never land on the first requests.
   *
   * @param options Kind, size and the work each task does.
   * @returns The ready pool.
   * @throws {EchokitError} When a member cannot start.
   */
  static async start(options: OffloadPoolOptions): Promise<OffloadPool> {
    const pool = new OffloadPool(options.size);
    const start = options.kind === "threads" ? startThread : startProcess;
    const results = await Promise.allSettled(
      Array.from({ length: options.size }, () =>
        start(options, {
          reply: (member, data) => pool.#finish(member, null, data),
          fail: (member, err) => pool.#finish(member, err),
        })),
    );
    for (const r of results) if (r.status === "fulfilled") pool.#members.push(r.value);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await pool.close();
      throw (failed as PromiseRejectedResult).reason;
    }
    pool.#idle.push(...pool.#members);
    return pool;
  }

  /**
   * Queues a message; `done` is called with the reply once a member has done
   * the work.
   *
   * @param data The message (copied; the caller may reuse its buffer at once).
   * @param done Called once with the reply or an error.
   */
  submit(data: Uint8Array, done: TaskCallback): void {
    if (this.#broken || this.#closing) {
      done(this.#broken ?? new EchokitError("Offload pool is closed"));
      return;
    }
    // Copy: the caller may reuse its buffer, and a node:net Buffer's slice() is a view.
    const copy = new Uint8Array(data.length);
    copy.set(data);
    const task: Task = { data: copy, done, queuedAt: performance.now() };
    const member = this.#idle.pop();
    if (member) {
      this.#dispatch(member, task);
      return;
    }
    this.#queue.push(task);
    const depth = this.#queue.length - this.#queueHead;
    if (depth > this.#stats.offloadQueueMax) this.#stats.offloadQueueMax = depth;
  }

  /**
   * Promise form of {@linkcode OffloadPool.submit}.
   *
   * @param data The message.
   * @returns The reply.
   */
  run(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) =>
      this.submit(data, (err, reply) => err ? reject(err) : resolve(reply!))
    );
  }

  /**
   * A snapshot of the pool's counters.
   *
   * @returns The counters, wait time rounded to 0.1 ms.
   */
  stats(): OffloadStats {
    return { ...this.#stats, offloadWaitMs: Math.round(this.#stats.offloadWaitMs * 10) / 10 };
  }

  /** Fails queued tasks and stops every member. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#failAll(new EchokitError("Offload pool is closed"));
    await Promise.allSettled(this.#members.map((m) => m.close()));
  }

  #dispatch(member: Member, task: Task): void {
    this.#stats.offloadWaitMs += performance.now() - task.queuedAt;
    this.#running.set(member, task);
    member.send(task.data);
  }

  #finish(member: Member, err: Error | null, reply?: Uint8Array): void {
    const task = this.#running.get(member);
    this.#running.delete(member);
    if (err) {
      if (!this.#closing) {
        this.#broken = new EchokitError(`Offload pool is broken: ${err.message}`, { cause: err });
        this.#failAll(this.#broken);
      }
      task?.done(this.#broken ?? err);
      return;
    }
    if (task) {
      this.#stats.offloadTasks++;
      task.done(null, reply);
    }
    if (this.#closing || this.#broken) return;
    if (this.#queueHead < this.#queue.length) {
      const next = this.#queue[this.#queueHead];
      this.#queue[this.#queueHead++] = undefined as unknown as Task;
      // Compact now and then so the queue array does not grow forever.
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      this.#dispatch(member, next);
    } else {
      this.#idle.push(member);
    }
  }

  #failAll(err: Error): void {
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue.length = 0;
    this.#queueHead = 0;
    for (const task of queued) task.done(err);
    for (const [member, task] of this.#running) {
      this.#running.delete(member);
      task.done(err);
    }
  }
}

interface MemberEvents {
  reply(member: Member, data: Uint8Array): void;
  fail(member: Member, err: Error): void;
}

/** Message a thread-pool Worker receives first. */
export interface OffloadWorkerInit {
  /** The work per task. */
  work?: Work;
  /** CPU rate for `cpu` work. */
  iterationsPerMs: number;
}

function startThread(options: OffloadPoolOptions, events: MemberEvents): Promise<Member> {
  const worker = new Worker(new URL("./offload_worker.ts", import.meta.url), { type: "module" });
  const ready = Promise.withResolvers<Member>();
  let started = false;
  const member: Member = {
    send(data) {
      worker.postMessage(data, [data.buffer as ArrayBuffer]);
    },
    close() {
      worker.terminate();
      return Promise.resolve();
    },
  };
  worker.onmessage = (e: MessageEvent<Uint8Array | "ready">) => {
    if (e.data === "ready") {
      member.send(new Uint8Array(0));
    } else if (!started) {
      started = true;
      ready.resolve(member);
    } else {
      events.reply(member, e.data);
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    const err = new EchokitError(`Offload thread failed: ${e.message}`);
    if (started) events.fail(member, err);
    else ready.reject(err);
  };
  const init: OffloadWorkerInit = {
    work: options.work,
    iterationsPerMs: options.iterationsPerMs ?? 1,
  };
  worker.postMessage(init);
  return ready.promise;
}

/** Frame header: task length as u32 little-endian. Length 0xffffffff = "ready". */
const HEADER = 4;
/** The `ready` frame's length field. */
export const READY_FRAME = 0xffffffff;

function startProcess(options: OffloadPoolOptions, events: MemberEvents): Promise<Member> {
  const args = ["_offload-worker", "--iterations-per-ms", String(options.iterationsPerMs ?? 1)];
  if (options.work) args.push("--work", formatWork(options.work));
  const [program, ...rest] = echokitArgv(args);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: rest,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  } catch (err) {
    return Promise.reject(
      new EchokitError(`Cannot start an offload process: ${(err as Error).message}`, {
        cause: err,
      }),
    );
  }
  const writer = child.stdin.getWriter();
  const ready = Promise.withResolvers<Member>();
  let started = false;
  let closing = false;
  const member: Member = {
    send(data) {
      const frame = new Uint8Array(HEADER + data.length);
      new DataView(frame.buffer).setUint32(0, data.length, true);
      frame.set(data, HEADER);
      writer.write(frame).catch(() => {
        // The read side reports the death.
      });
    },
    async close() {
      closing = true;
      // EOF on stdin is the child's signal to exit.
      await writer.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 2000);
      await child.status;
      clearTimeout(timer);
    },
  };
  (async () => {
    const frames = new FrameReader();
    for await (const chunk of child.stdout) {
      for (const frame of frames.push(chunk)) {
        if (frame === "ready") {
          member.send(new Uint8Array(0));
        } else if (!started) {
          started = true;
          ready.resolve(member);
        } else {
          events.reply(member, frame);
        }
      }
    }
  })().catch(() => {}).finally(async () => {
    const status = await child.status;
    if (closing) return;
    const err = new EchokitError(`Offload process ${child.pid} exited with code ${status.code}`);
    if (started) events.fail(member, err);
    else ready.reject(err);
  });
  return ready.promise;
}

/**
 * Splits a byte stream into offload frames (`u32` length, then the bytes).
 *
 * @example Usage
 * ```ts
 * import { FrameReader } from "./offload.ts";
 * const frames = new FrameReader().push(new Uint8Array([1, 0, 0, 0, 42]));
 * console.log(frames); // [Uint8Array [42]]
 * ```
 */
export class FrameReader {
  #buf = new Uint8Array(0);

  /**
   * Adds bytes; returns the frames they complete.
   *
   * @param chunk Bytes read.
   * @returns Complete frames, and `"ready"` for a ready frame.
   */
  push(chunk: Uint8Array): (Uint8Array | "ready")[] {
    let buf = chunk;
    if (this.#buf.length > 0) {
      buf = new Uint8Array(this.#buf.length + chunk.length);
      buf.set(this.#buf);
      buf.set(chunk, this.#buf.length);
    }
    const out: (Uint8Array | "ready")[] = [];
    let off = 0;
    while (buf.length - off >= HEADER) {
      const len = new DataView(buf.buffer, buf.byteOffset + off, HEADER).getUint32(0, true);
      if (len === READY_FRAME) {
        out.push("ready");
        off += HEADER;
        continue;
      }
      if (buf.length - off - HEADER < len) break;
      out.push(buf.slice(off + HEADER, off + HEADER + len));
      off += HEADER + len;
    }
    this.#buf = buf.slice(off);
    return out;
  }
}
