/**
 * The timers' wait before each sample, one rule for every engine (JMeter sums
 * every timer in scope and sleeps that long before the sampler runs). Private
 * to `loadgen/`.
 *
 * - Constant Timers: `timerMs`.
 * - Uniform / Gaussian Random Timer: `|random × range + timerMs|`
 *   (`UniformRandomTimer.delay()`, `GaussianRandomTimer.delay()`), unseeded.
 * - Constant Throughput Timer (`ConstantThroughputTimer.delay()`): each
 *   thread keeps its previous target; the next is previous + interval, or now
 *   (no wait) when the thread is behind. The interval is 60000 / perMinute ms
 *   for `thread`, times the active threads for `active`; `shared` draws from one
 *   schedule for every thread (`calculateSharedDelay`), across workers through
 *   the shared control block.
 * - Precise Throughput Timer: event k at group start + k × interval, shared
 *   by every thread; a late thread goes at once and the schedule does not slip.
 *
 * @module
 */
import { CTRL, type EngineConfig } from "./_engine_types.ts";

/** The timers of one worker's threads. */
export class SampleTimers {
  /** Whether any timer is set (otherwise {@linkcode delayMs} is always 0). */
  readonly any: boolean;
  readonly #constantMs: number;
  readonly #random: EngineConfig["randomTimer"];
  readonly #throughputMode: string | undefined;
  readonly #control: Int32Array;
  readonly #previous: Float64Array;
  readonly #intervalMs: number;
  /** Precise Throughput Timer: when event 0 is due, epoch ms. */
  readonly #groupStart: number;
  /** Shared Constant Throughput Timer: the schedule's origin, whole epoch ms. */
  readonly #base: number;

  /**
   * @param config The worker's config (timers, thread count, start time).
   */
  constructor(config: EngineConfig) {
    this.#constantMs = config.timerMs ?? 0;
    this.#random = config.randomTimer;
    this.#throughputMode = config.throughput?.mode;
    this.any = this.#constantMs > 0 || this.#random !== undefined ||
      this.#throughputMode !== undefined;
    this.#control = new Int32Array(config.control);
    this.#previous = new Float64Array(config.indices.length);
    this.#intervalMs = config.throughput ? 60_000 / config.throughput.perMinute : 0;
    this.#groupStart = config.startTime + (config.delayMs ?? 0);
    this.#base = Math.floor(config.startTime);
  }

  /**
   * The wait before a thread's next sample, whole ms, as JMeter's timers
   * compute it when the sample is due.
   *
   * @param local The thread's index inside this worker.
   * @param now Epoch ms.
   * @returns Milliseconds to wait (0: go now).
   */
  delayMs(local: number, now: number): number {
    let wait = this.#constantMs;
    const random = this.#random;
    if (random) {
      const r = random.distribution === "uniform" ? Math.random() : gaussian();
      wait = Math.floor(Math.abs(r * random.rangeMs + wait));
    }
    const mode = this.#throughputMode;
    if (mode !== undefined) wait += this.#throughputDelay(local, Math.floor(now), mode);
    return wait;
  }

  #throughputDelay(local: number, now: number, mode: string): number {
    const ctrl = this.#control;
    if (mode === "precise") {
      const k = Atomics.add(ctrl, CTRL.preciseNext, 1);
      return Math.max(0, Math.floor(this.#groupStart + k * this.#intervalMs - now));
    }
    if (mode === "shared") {
      // One schedule for all threads of all workers, kept relative to startTime.
      const base = this.#base;
      const interval = Math.round(this.#intervalMs);
      while (true) {
        const last = Atomics.load(ctrl, CTRL.throughputLast);
        const next = Math.max(now - base, last + interval);
        if (Atomics.compareExchange(ctrl, CTRL.throughputLast, last, next) === last) {
          return Math.max(0, next - (now - base));
        }
      }
    }
    const threads = mode === "active" ? Math.max(1, Atomics.load(ctrl, CTRL.active)) : 1;
    const target = this.#previous[local] + Math.round(threads * this.#intervalMs);
    // The first sample has no previous target, so it goes at once, as in JMeter.
    if (now > target) {
      this.#previous[local] = now;
      return 0;
    }
    this.#previous[local] = target;
    return target - now;
  }
}

/** A standard normal deviate (Box-Muller), like `Random.nextGaussian()`. */
function gaussian(): number {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

/**
 * The initial value of the shared Constant Throughput Timer slot: "no sample
 * scheduled yet", so the first sample goes at once.
 */
export const THROUGHPUT_UNSET = -0x40000000;
