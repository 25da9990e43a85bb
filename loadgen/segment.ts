/**
 * Plan segments: segment I of N runs a fixed subset of the whole plan's
 * threads, so N load generators (a Kubernetes Indexed Job, N VMs) together run
 * exactly the plan. A segment keeps the whole plan's `threads`, ramp-up and
 * `--rate` for the schedule and only drops the threads that are not its own,
 * so every engine gets segments for free: thread k still starts at
 * k·rampUp/threads, its JTL name is still `Thread Group 1-<k+1>`, and each
 * thread's share of the rate is still rate/threads.
 *
 * The split is interleaved (thread k belongs to segment k mod N), not in
 * contiguous blocks: each segment's threads then start over the whole ramp-up,
 * as the plan's do, instead of segment 0 loading the server alone for the
 * first 1/N of the ramp. The first `threads % N` segments get one thread more.
 *
 * @example Usage
 * ```ts
 * import { parseSegment, segmentThreads } from "./segment.ts";
 * const segment = parseSegment("1/4");
 * console.log(segmentThreads(10, segment)); // [1, 5, 9]
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { UsageError } from "../util/errors.ts";
import type { Plan, Segment } from "./types.ts";

export type { Segment, SegmentRecord } from "./types.ts";

/** Furthest ahead `--start-at` may be: a day. */
export const MAX_START_WAIT_MS = 86_400_000;

/** Most segments a plan can be split into. */
export const MAX_SEGMENTS = 10_000;

/**
 * Parses `I/N` (0-based I, 0 ≤ I < N).
 *
 * @param text The flag's value, e.g. `2/4` or `$(JOB_COMPLETION_INDEX)/4` after expansion.
 * @param flag The flag's name, for messages.
 * @returns The segment.
 * @throws {UsageError} When it is not `I/N` with 0 ≤ I < N.
 *
 * @example Usage
 * ```ts
 * import { parseSegment } from "./segment.ts";
 * console.log(parseSegment("0/4")); // { index: 0, count: 4 }
 * ```
 */
export function parseSegment(text: string, flag = "--segment"): Segment {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SEGMENTS || index >= count) {
    throw new UsageError(
      `Invalid ${flag} "${text}" (use I/N with 0 ≤ I < N ≤ ${MAX_SEGMENTS}; I is 0-based, as JOB_COMPLETION_INDEX)`,
    );
  }
  return { index, count };
}

/**
 * The whole plan's thread numbers (0-based) that segment `segment` runs:
 * k with k mod N = I.
 *
 * @param threads Threads of the whole plan.
 * @param segment The segment; without one, every thread.
 * @returns Global thread numbers, ascending.
 *
 * @example Usage
 * ```ts
 * import { segmentThreads } from "./segment.ts";
 * console.log(segmentThreads(5, { index: 0, count: 2 })); // [0, 2, 4]
 * ```
 */
export function segmentThreads(threads: number, segment?: Segment): number[] {
  const step = segment?.count ?? 1;
  const out: number[] = [];
  for (let k = segment?.index ?? 0; k < threads; k += step) out.push(k);
  return out;
}

/**
 * A short hash of what makes runs "the same plan": every plan field except
 * the target (host and port may be spelled differently per generator), plus
 * the whole `--rate`.
 *
 * @param plan The whole plan.
 * @param rate The whole plan's `--rate`, if any.
 * @returns 16 hex digits.
 *
 * @example Usage
 * ```ts
 * import { planIdentity } from "./segment.ts";
 * import { BUILTIN_PLANS } from "./plans.ts";
 * console.log(planIdentity(BUILTIN_PLANS.plan2).length); // 16
 * ```
 */
export function planIdentity(plan: Plan, rate?: number): string {
  const { host: _h, port: _p, ...rest } = plan;
  const fields = Object.entries({ ...rest, rate })
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a < b ? -1 : 1);
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex").slice(0, 16);
}

/**
 * Parses `--start-at`: an ISO 8601 time (`2026-12-07T02:00:00Z`) or epoch ms.
 * A time more than a second in the past is an error (segments started late
 * would not run together), as is one more than a day ahead.
 *
 * @param text The flag's value.
 * @param now The current time, epoch ms.
 * @returns Epoch ms.
 * @throws {UsageError} When it is not a time, more than 1 s ago or over a day ahead.
 *
 * @example Usage
 * ```ts
 * import { parseStartAt } from "./segment.ts";
 * console.log(parseStartAt("2026-12-07T02:00:30Z", Date.parse("2026-12-07T02:00:00Z"))); // 1796608830000
 * ```
 */
export function parseStartAt(text: string, now: number = Date.now()): number {
  const trimmed = text.trim();
  const at = /^\d+$/.test(trimmed)
    ? Number(trimmed)
    : /^\d{4}-\d{2}-\d{2}T/.test(trimmed)
    ? Date.parse(trimmed)
    : NaN;
  if (!Number.isFinite(at)) {
    throw new UsageError(
      `Invalid --start-at "${text}" (use an ISO 8601 time such as 2026-12-07T02:00:00Z or epoch ms)`,
    );
  }
  if (at < now - 1000) {
    throw new UsageError(
      `Invalid --start-at "${text}": it is ${
        ((now - at) / 1000).toFixed(1)
      } s in the past (give a time in the future, e.g. now + 30 s, the same for every segment)`,
    );
  }
  if (at > now + MAX_START_WAIT_MS) {
    throw new UsageError(
      `Invalid --start-at "${text}": it is more than 24 h away (give a time within the next day)`,
    );
  }
  return at;
}
