/**
 * Units users type: durations (`30s`, `500ms`, `200us`) and sizes.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/**
 * Parses a duration such as `30s`, `500ms`, `2m`, `200us` or a bare number of
 * `unit`s.
 *
 * @param what What the value is, for the message (`--interval`).
 * @param raw The text given.
 * @param unit The unit of a bare number.
 * @returns Milliseconds.
 */
export function parseDuration(what: string, raw: string, unit: "s" | "ms" = "s"): number {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)?$/.exec(raw.trim());
  if (!m) {
    throw new UsageError(`Invalid ${what} "${raw}" (use a duration such as 30s, 500ms or 2m)`);
  }
  const factor: Record<string, number> = {
    us: 1e-3,
    "µs": 1e-3,
    ms: 1,
    s: 1000,
    m: 60000,
    h: 3600000,
  };
  return Number(m[1]) * factor[m[2] ?? unit];
}
