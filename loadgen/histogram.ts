/**
 * Latency histogram with microsecond resolution: a thin wrapper over
 * `hdr-histogram-js` (3 significant digits) that workers encode once and the
 * main thread merges, so no per-sample message ever crosses a thread.
 *
 * The pure-JS 32-bit variant is used on purpose: the WASM variant needs an
 * async init and explicit `destroy()`, and its per-call FFI hop into WASM is
 * no faster than the JIT-compiled JS for one `recordValue` per sample.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";

/** Largest latency tracked exactly, µs (one hour); larger values are clamped. */
export const MAX_TRACKABLE_US = 3_600_000_000;

function build(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 32,
    useWebAssembly: false,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
}

/**
 * A latency histogram in whole microseconds.
 *
 * @example Usage
 * ```ts
 * import { LatencyHistogram } from "./histogram.ts";
 * const h = new LatencyHistogram();
 * h.record(120);
 * h.record(480);
 * const copy = LatencyHistogram.decode(h.encode());
 * console.log(copy.count, copy.percentile(50) >= 120); // 2 true
 * ```
 */
export class LatencyHistogram {
  #h: hdr.Histogram;

  /** Creates an empty histogram. */
  constructor() {
    this.#h = build();
  }

  /**
   * Records one latency.
   *
   * @param us Microseconds; fractions are rounded, values below 0 count as 0.
   */
  record(us: number): void {
    const v = us < 0 ? 0 : us > MAX_TRACKABLE_US ? MAX_TRACKABLE_US : Math.round(us);
    this.#h.recordValue(v);
  }

  /** Number of values recorded. */
  get count(): number {
    return this.#h.totalCount;
  }

  /** Mean, µs (0 when empty). */
  get mean(): number {
    return this.count === 0 ? 0 : this.#h.mean;
  }

  /** Smallest value, µs (0 when empty). */
  get min(): number {
    return this.count === 0 ? 0 : this.#h.getValueAtPercentile(0);
  }

  /** Largest value, µs (0 when empty). */
  get max(): number {
    return this.count === 0 ? 0 : this.#h.maxValue;
  }

  /**
   * The value at a percentile.
   *
   * @param p Percentile, 0–100.
   * @returns Microseconds (0 when empty).
   */
  percentile(p: number): number {
    return this.count === 0 ? 0 : this.#h.getValueAtPercentile(p);
  }

  /**
   * Adds another histogram's values into this one.
   *
   * @param other The histogram to add.
   */
  merge(other: LatencyHistogram): void {
    if (other.count > 0) this.#h.add(other.#h);
  }

  /** Forgets every value. */
  reset(): void {
    this.#h.reset();
  }

  /**
   * Encodes the histogram compactly (compressed HdrHistogram base64, the
   * format HdrHistogram's own tools read) for transfer between threads.
   *
   * @returns The encoded text.
   */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#h);
  }

  /**
   * Decodes a histogram made by {@linkcode LatencyHistogram.encode}.
   *
   * @param text The encoded text.
   * @returns A new histogram.
   */
  static decode(text: string): LatencyHistogram {
    const out = new LatencyHistogram();
    const decoded = hdr.decodeFromCompressedBase64(text, 32, false);
    out.#h.add(decoded);
    return out;
  }
}
