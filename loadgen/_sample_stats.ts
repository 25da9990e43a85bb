/**
 * Where an engine puts each finished sample: a few counters, one histogram
 * and (when a JTL is wanted) one row in a preallocated Float64Array. Nothing
 * here allocates per sample. Private to `loadgen/`.
 *
 * @module
 */
import {
  CTRL,
  type EngineConfig,
  ERROR_KINDS,
  JTL,
  JTL_STRIDE,
  type TickMessage,
} from "./_engine_types.ts";
import { LatencyHistogram } from "./histogram.ts";

/** Epoch milliseconds with sub-ms precision (this thread's clock). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Accumulates one worker's samples between ticks. */
export class SampleStats {
  readonly histogram: LatencyHistogram = new LatencyHistogram();
  #started = 0;
  #finished = 0;
  #count = 0;
  #errors = 0;
  #sumMs = 0;
  #minMs = Infinity;
  #maxMs = -Infinity;
  #lastEnd = 0;
  #byKind: number[] = ERROR_KINDS.map(() => 0);
  #warmupCount = 0;
  #warmupErrors = 0;
  readonly #warmupEnd: number;
  readonly #worker: number;
  readonly #perThread: Uint32Array;
  #markStart: Uint32Array | undefined;
  #markEnd: Uint32Array | undefined;
  readonly #control: Int32Array;
  #jtl: Float64Array | undefined;
  #jtlLen = 0;

  constructor(config: EngineConfig) {
    this.#warmupEnd = config.warmupEnd;
    this.#worker = config.worker;
    this.#perThread = new Uint32Array(config.indices.length);
    this.#control = new Int32Array(config.control);
    if (config.jtl) this.#jtl = new Float64Array(4096 * JTL_STRIDE);
  }

  /**
   * Records one finished sample.
   *
   * @param local The thread's index inside this worker.
   * @param thread The thread's index in the plan.
   * @param start Start (or, open model, intended start), epoch ms.
   * @param end End, epoch ms.
   * @param firstByte When the first response byte arrived, epoch ms (0: none).
   * @param connectMs Time spent connecting, ms (0 on a reused connection).
   * @param bytes Response bytes read.
   * @param kind Error kind code, or -1 on success.
   * @param sent When the request was actually sent, epoch ms. @default {start}
   * @param waitMs The timers' wait before the sample, ms. @default {0}
   */
  record(
    local: number,
    thread: number,
    start: number,
    end: number,
    firstByte: number,
    connectMs: number,
    bytes: number,
    kind: number,
    sent: number = start,
    waitMs = 0,
  ): void {
    // JMeter's elapsed is the difference of two ms timestamps, not a rounded duration.
    const elapsed = Math.floor(end) - Math.floor(start);
    if (start < this.#warmupEnd) {
      this.#warmupCount++;
      if (kind >= 0) this.#warmupErrors++;
    } else {
      this.#count++;
      this.#sumMs += elapsed;
      if (elapsed < this.#minMs) this.#minMs = elapsed;
      if (elapsed > this.#maxMs) this.#maxMs = elapsed;
      if (end > this.#lastEnd) this.#lastEnd = end;
      if (kind >= 0) {
        this.#errors++;
        this.#byKind[kind]++;
      } else {
        this.#perThread[local]++;
      }
      this.histogram.record((end - start) * 1000);
    }
    if (this.#jtl !== undefined) {
      this.#addRow(thread, start, elapsed, firstByte, connectMs, bytes, kind);
      const off = (this.#jtlLen - 1) * JTL_STRIDE;
      this.#jtl![off + JTL.sent] = sent;
      this.#jtl![off + JTL.wait] = waitMs;
    }
  }

  #addRow(
    thread: number,
    start: number,
    elapsed: number,
    firstByte: number,
    connectMs: number,
    bytes: number,
    kind: number,
  ): void {
    let rows = this.#jtl!;
    const off = this.#jtlLen * JTL_STRIDE;
    if (off + JTL_STRIDE > rows.length) {
      // Grows only until the tick drains it; steady state reuses the same buffer.
      const bigger = new Float64Array(rows.length * 2);
      bigger.set(rows);
      this.#jtl = rows = bigger;
    }
    rows[off + JTL.start] = start;
    rows[off + JTL.elapsed] = elapsed;
    rows[off + JTL.latency] = firstByte > 0 ? Math.floor(firstByte) - Math.floor(start) : 0;
    rows[off + JTL.connect] = Math.round(connectMs);
    rows[off + JTL.bytes] = bytes;
    rows[off + JTL.kind] = kind;
    rows[off + JTL.thread] = thread;
    rows[off + JTL.spare] = 0;
    this.#jtlLen++;
  }

  /** Threads started so far in this worker; also counted in the test-wide active slot. */
  get started(): number {
    return this.#started;
  }
  set started(n: number) {
    Atomics.add(this.#control, CTRL.active, n - this.#started);
    this.#started = n;
  }

  /** Threads finished so far in this worker. */
  get finished(): number {
    return this.#finished;
  }
  set finished(n: number) {
    Atomics.sub(this.#control, CTRL.active, n - this.#finished);
    this.#finished = n;
  }

  /** True once the main thread asked to stop. */
  get stopping(): boolean {
    return Atomics.load(this.#control, CTRL.stop) !== 0;
  }

  /** Asks every worker to stop (onError: stopTest). */
  requestStop(): void {
    Atomics.store(this.#control, CTRL.stop, 1);
  }

  /** Takes the fairness snapshots the main thread asked for; cheap, call often. */
  checkMarks(): void {
    if (this.#markStart === undefined) {
      if (Atomics.load(this.#control, CTRL.markStart) !== 0) {
        this.#markStart = this.#perThread.slice();
      }
      // Both marks seen at once means no steady window: leave the end unset.
      return;
    }
    if (this.#markEnd === undefined && Atomics.load(this.#control, CTRL.markEnd) !== 0) {
      this.#markEnd = this.#perThread.slice();
    }
  }

  /**
   * Takes the counters since the last tick and resets them.
   *
   * @returns The tick message (the JTL rows are transferable).
   */
  tick(): TickMessage {
    const msg: TickMessage = {
      type: "tick",
      worker: this.#worker,
      time: nowMs(),
      count: this.#count,
      errors: this.#errors,
      sumMs: this.#sumMs,
      minMs: this.#minMs,
      maxMs: this.#maxMs,
      lastEnd: this.#lastEnd,
      errorsByKind: this.#byKind,
      warmupCount: this.#warmupCount,
      warmupErrors: this.#warmupErrors,
      started: this.started,
      finished: this.finished,
    };
    if (this.#jtl !== undefined && this.#jtlLen > 0) {
      msg.jtl = this.#jtl.slice(0, this.#jtlLen * JTL_STRIDE);
      this.#jtlLen = 0;
    }
    this.#count = 0;
    this.#errors = 0;
    this.#sumMs = 0;
    this.#minMs = Infinity;
    this.#maxMs = -Infinity;
    this.#lastEnd = 0;
    this.#byKind = ERROR_KINDS.map(() => 0);
    this.#warmupCount = 0;
    this.#warmupErrors = 0;
    return msg;
  }

  /**
   * Per-thread successful round trips: over the whole run, and inside the
   * steady window ("every thread started" to "first thread finished") when
   * that window held samples.
   *
   * @returns Whole-run counts and, when there was one, window counts.
   */
  fairness(): { counts: number[]; window?: number[] } {
    this.checkMarks();
    const counts = Array.from(this.#perThread);
    if (this.#markStart && this.#markEnd) {
      const a = this.#markStart;
      const window = Array.from(this.#markEnd, (v, i) => v - a[i]);
      if (window.some((c) => c > 0)) return { counts, window };
    }
    return { counts };
  }
}
