/**
 * Latency histogram with microsecond resolution: a thin wrapper over
 * `hdr-histogram-js` (3 significant digits) that workers encode once and the
 * main thread merges, so no per-sample message ever crosses a thread.
 *
 * The pure-JS 32-bit variant is used on purpose: the WASM variant needs an
 * async init and explicit `destroy()`, and its per-call FFI hop into WASM is
 * no faster than the JIT-compiled JS for one `recordValue` per sample.
 *
 * The library is loaded on first use ({@linkcode loadLatencyHistogram}), not
 * at import: every echokit process imports the whole toolkit through
 * `mod.ts`, and a `serve` process that never measures latency would carry
 * hdr-histogram-js and its npm dependencies (about 12 MiB of RSS) for nothing.
 *
 * @module
 */
import type * as Hdr from "hdr-histogram-js";
import type { LatencySummary } from "./types.ts";

let hdr: typeof Hdr | undefined;

/**
 * Loads hdr-histogram-js, which {@linkcode LatencyHistogram} needs; call (and
 * await) it once before the first `new LatencyHistogram()` or `decode()`.
 * Later calls return at once.
 *
 * @returns The class, ready to use.
 *
 * @example Usage
 * ```ts
 * import { loadLatencyHistogram } from "./histogram.ts";
 * const LatencyHistogram = await loadLatencyHistogram();
 * console.log(new LatencyHistogram().count); // 0
 * ```
 */
export async function loadLatencyHistogram(): Promise<typeof LatencyHistogram> {
  hdr ??= await import("hdr-histogram-js");
  return LatencyHistogram;
}

function lib(): typeof Hdr {
  if (hdr === undefined) {
    throw new Error(
      "LatencyHistogram used before its library was loaded (await loadLatencyHistogram() first)",
    );
  }
  return hdr;
}

/** Largest latency tracked exactly, µs (one hour); larger values are clamped. */
export const MAX_TRACKABLE_US = 3_600_000_000;

function build(): Hdr.Histogram {
  return lib().build({
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
 * import { loadLatencyHistogram } from "./histogram.ts";
 * const LatencyHistogram = await loadLatencyHistogram();
 * const h = new LatencyHistogram();
 * h.record(120);
 * h.record(480);
 * const copy = LatencyHistogram.decode(h.encode());
 * console.log(copy.count, copy.percentile(50) >= 120); // 2 true
 * ```
 */
export class LatencyHistogram {
  #h: Hdr.Histogram;

  /**
   * Creates an empty histogram.
   *
   * @throws {Error} Before {@linkcode loadLatencyHistogram} has resolved.
   */
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
    return lib().encodeIntoCompressedBase64(this.#h);
  }

  /**
   * Decodes a histogram made by {@linkcode LatencyHistogram.encode}.
   *
   * @param text The encoded text.
   * @returns A new histogram.
   */
  static decode(text: string): LatencyHistogram {
    const out = new LatencyHistogram();
    const decoded = lib().decodeFromCompressedBase64(text, 32, false);
    out.#h.add(decoded);
    return out;
  }
}

/** The figures of a {@linkcode LatencySummary} that a histogram alone gives. */
export type HistogramFigures = Pick<
  LatencySummary,
  "meanUs" | "p50Us" | "p90Us" | "p95Us" | "p99Us" | "p999Us" | "histogram"
>;

/**
 * Mean, the reported percentiles and the encoded histogram, as a
 * {@linkcode LatencySummary} carries them.
 *
 * @param h The histogram.
 * @returns The figures, in µs.
 *
 * @example Usage
 * ```ts
 * import { histogramFigures, loadLatencyHistogram } from "./histogram.ts";
 * const LatencyHistogram = await loadLatencyHistogram();
 * const h = new LatencyHistogram();
 * h.record(250);
 * console.log(histogramFigures(h).p99Us); // 250
 * ```
 */
export function histogramFigures(h: LatencyHistogram): HistogramFigures {
  return {
    meanUs: h.mean,
    p50Us: h.percentile(50),
    p90Us: h.percentile(90),
    p95Us: h.percentile(95),
    p99Us: h.percentile(99),
    p999Us: h.percentile(99.9),
    histogram: h.encode(),
  };
}
