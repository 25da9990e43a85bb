/**
 * Units users type: durations (`30s`, `500ms`, `200us`) and sizes.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

const DURATION_FACTORS: Record<string, number> = {
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60000,
  h: 3600000,
};

/**
 * Parses a duration such as `30s`, `500ms`, `1.5s`, `200us`, a compound
 * `1m30s` or `1h2m` (units from largest to smallest, each once), or a bare
 * number of `unit`s.
 *
 * @param what What the value is, for the message (`--interval`).
 * @param raw The text given.
 * @param unit The unit of a bare number.
 * @returns Milliseconds.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "./units.ts";
 * console.log(parseDuration("--duration", "1m30s")); // 90000
 * ```
 */
export function parseDuration(what: string, raw: string, unit: "s" | "ms" = "s"): number {
  const text = raw.trim();
  const bad = () =>
    new UsageError(
      `Invalid ${what} "${raw}" (use a duration such as 30s, 1.5s, 250ms, 2m or 1m30s)`,
    );
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * DURATION_FACTORS[unit];
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw bad();
  let ms = 0;
  let last = Infinity;
  for (const [, n, u] of parts) {
    const factor = DURATION_FACTORS[u];
    // 1m30s, not 30s1m or 1m1m: each unit once, largest first.
    if (factor >= last) throw bad();
    last = factor;
    ms += Number(n) * factor;
  }
  return ms;
}
