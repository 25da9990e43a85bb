/**
 * What the `stream` and `protocol` servers do with each message when
 * `--work` or `--offload` is given: the work done inline the way each model
 * would do it, or handed to an offload pool. Without either there is no
 * handler and the servers keep their bare echo path.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { formatOffload, OffloadPool, type TaskCallback } from "./offload.ts";
import type { ServeOptions, ServerStats } from "./types.ts";
import { blockFor, burnCpu, calibrateCpu, formatWork, type Work } from "./work.ts";

/** Turns a message into its reply after doing the configured work. */
export interface MessageHandler {
  /** Start-up facts (CPU calibration, pool size) for the server's notes. */
  readonly notes: readonly string[];
  /**
   * async/await form: sleep is a timer, a file is read asynchronously, block
   * and cpu run on the calling thread (stalling its loop).
   */
  handle(chunk: Uint8Array): Promise<Uint8Array>;
  /** Callback form of {@linkcode MessageHandler.handle}; `done` may run synchronously. */
  handleWithCallback(chunk: Uint8Array, done: TaskCallback): void;
  /** Work and pool counters to merge into the server's stats. */
  stats(): Partial<ServerStats>;
  /** Stops the pool, if any. */
  close(): Promise<void>;
}

/**
 * Builds the handler for a server's `work` and `offload` options.
 *
 * @param options The server's options.
 * @returns The handler, or undefined for a bare echo.
 * @throws {UsageError} When a `file:` work's file cannot be read.
 */
export async function createMessageHandler(
  options: ServeOptions,
): Promise<MessageHandler | undefined> {
  const { work, offload } = options;
  if (!work && !offload) return undefined;
  const { iterationsPerMs, notes } = prepareWork(work);
  let messages = 0;

  if (offload) {
    const pool = await OffloadPool.start({ ...offload, work, iterationsPerMs });
    notes.push(
      `offload: ${formatOffload(offload)} (each message's work runs on a pool member; FIFO queue)`,
    );
    return {
      notes,
      handle(chunk) {
        messages++;
        return pool.run(chunk);
      },
      handleWithCallback(chunk, done) {
        messages++;
        pool.submit(chunk, done);
      },
      stats: () => ({ workMessages: messages, ...pool.stats() }),
      close: () => pool.close(),
    };
  }

  // Chosen once: the message's work as the model does it inline.
  const run = inlineWork(work as Work, iterationsPerMs);
  return {
    notes,
    handle: (chunk) =>
      new Promise((resolve, reject) => {
        messages++;
        run((err) => err ? reject(err) : resolve(chunk));
      }),
    handleWithCallback(chunk, done) {
      messages++;
      run((err) => done(err, chunk));
    },
    stats: () => ({ workMessages: messages }),
    close: () => Promise.resolve(),
  };
}

/**
 * One message's work in callback form, `done` called when it is over: a timer
 * for sleep, an asynchronous read for file, and for block and cpu a
 * synchronous stall of the calling thread before `done`.
 */
function inlineWork(
  work: Work,
  iterationsPerMs: number,
): (done: (err: Error | null) => void) => void {
  switch (work.kind) {
    case "sleep":
      return (done) => setTimeout(done, work.ms, null);
    case "block":
      return (done) => {
        blockFor(work.ms);
        done(null);
      };
    case "cpu":
      return (done) => {
        burnCpu(work.ms, iterationsPerMs);
        done(null);
      };
    case "file":
      return (done) => {
        Deno.readFile(work.path).then(() => done(null), done);
      };
  }
}

/** What every mode needs before serving `--work`. */
export interface PreparedWork {
  /** The CPU rate for `cpu` work (1 for other work). */
  iterationsPerMs: number;
  /** Start-up notes: the work, and the calibration for `cpu` work. */
  notes: string[];
}

/**
 * Checks and calibrates work once at start: a `file:` path must be readable,
 * `cpu:` work is calibrated (about 80 ms).
 *
 * @param work The work, if any.
 * @returns The CPU rate and the notes to show.
 * @throws {UsageError} When a `file:` work's file cannot be read.
 */
export function prepareWork(work: Work | undefined): PreparedWork {
  const notes: string[] = [];
  let iterationsPerMs = 1;
  if (work?.kind === "file") checkReadable(work.path);
  if (work?.kind === "cpu") {
    const calibration = calibrateCpu();
    iterationsPerMs = calibration.iterationsPerMs;
    notes.push(
      `cpu work: 1 ms = ${iterationsPerMs} loop iterations (calibrated in ${
        Math.round(calibration.tookMs)
      } ms)`,
    );
  }
  if (work) notes.push(`work per message (one read chunk): ${formatWork(work)}`);
  return { iterationsPerMs, notes };
}

function checkReadable(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (err) {
    throw new UsageError(
      `Cannot read --work file "${path}": ${(err as Error).message} (give a readable file)`,
    );
  }
  if (!info.isFile) throw new UsageError(`Invalid --work file "${path}" (give a regular file)`);
}
