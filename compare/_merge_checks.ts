/**
 * The checks `compare merge` makes before it adds anything up: that every
 * input ran the same plan ({@linkcode checkSamePlans}), and that inputs which
 * are segments (`load --segment I/N`) are the segments of one plan run from
 * one start, with none missing or given twice ({@linkcode checkSegments}).
 * Private to `compare/`.
 *
 * @module
 */
import { EchokitError, UsageError } from "../util/errors.ts";
import type { Plan } from "../loadgen/types.ts";
import type { LoadInput, SegmentCheck } from "./types.ts";

// What makes two runs "the same plan"; host and port may be spelled differently per host.
const PLAN_KEYS = [
  "name",
  "threads",
  "loops",
  "rampUp",
  "message",
  "messageSize",
  "eolByte",
  "connectTimeout",
  "responseTimeout",
  "reuseConnection",
  "onError",
  "duration",
] as const satisfies readonly (keyof Plan)[];

/**
 * Throws when any input ran a different plan from the first (the keys that
 * make two runs "the same plan"; segments may differ in `threads`).
 *
 * @param inputs The inputs, at least one.
 * @param segmented Whether the inputs are segments of one plan.
 * @throws {UsageError} Naming both files and the key that differs.
 */
export function checkSamePlans(inputs: readonly LoadInput[], segmented: boolean): void {
  const [first, ...rest] = inputs;
  for (const input of rest) {
    for (const key of PLAN_KEYS) {
      // Segments run their share of the threads; their record checks the whole plan's.
      if (segmented && key === "threads") continue;
      const a = first.result.plan[key];
      const b = input.result.plan[key];
      if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) {
        throw new UsageError(
          `Plans differ: "${input.source}" ran ${key} ${JSON.stringify(b)}, "${first.source}" ran ${
            JSON.stringify(a)
          } (merge results of one plan run from every host at the same time)`,
        );
      }
    }
  }
}

function segmentName(input: LoadInput): string {
  const s = input.result.segment;
  return s ? `"${input.source}" (segment ${s.index}/${s.count})` : `"${input.source}"`;
}

/**
 * Checks that inputs which are segments are the segments of one plan run
 * from one start: all or none segmented, one N, one plan hash, one
 * `--start-at`; then which segment numbers are missing or duplicated.
 *
 * @param inputs The inputs.
 * @param partial Merge even when segments are missing or duplicated (a note says so).
 * @param notes Receives the notes a reader of the merge must see.
 * @returns The segments found; undefined when no input is a segment.
 * @throws {UsageError} When whole runs and segments are mixed, or segments of different runs.
 * @throws {EchokitError} When segments are missing or duplicated and `partial` is false.
 */
export function checkSegments(
  inputs: readonly LoadInput[],
  partial: boolean,
  notes: string[],
): SegmentCheck | undefined {
  const segmented = inputs.filter((i) => i.result.segment);
  if (segmented.length === 0) return undefined;
  const plain = inputs.find((i) => !i.result.segment);
  if (plain) {
    throw new UsageError(
      `"${plain.source}" is a whole run, ${
        segmentName(segmented[0])
      } a segment (merge the segments of one load --segment run only)`,
    );
  }
  const first = segmented[0];
  const f = first.result.segment!;
  for (const input of segmented.slice(1)) {
    const s = input.result.segment!;
    const differ = s.count !== f.count
      ? `split into ${s.count} segments, not ${f.count}`
      : s.planHash !== f.planHash || s.planThreads !== f.planThreads
      ? `ran plan ${s.planHash} (${s.planThreads} threads), not ${f.planHash} (${f.planThreads} threads)`
      : s.startAt !== f.startAt
      ? `started at ${s.startAt === undefined ? "no --start-at" : iso(s.startAt)}, not ${
        f.startAt === undefined ? "no --start-at" : iso(f.startAt)
      }`
      : undefined;
    if (differ) {
      throw new UsageError(
        `${segmentName(input)} ${differ} like ${
          segmentName(first)
        } (merge the segments of one plan and one --start-at)`,
      );
    }
  }
  const seen = new Map<number, number>();
  for (const i of segmented) {
    seen.set(i.result.segment!.index, (seen.get(i.result.segment!.index) ?? 0) + 1);
  }
  const present = [...seen.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let k = 0; k < f.count; k++) if (!seen.has(k)) missing.push(k);
  const duplicated = present.filter((k) => seen.get(k)! > 1);
  const problems = [
    missing.length > 0 ? `segments ${listOf(missing)} of ${f.count} missing` : "",
    duplicated.length > 0 ? `segments ${listOf(duplicated)} given more than once` : "",
  ].filter((p) => p !== "").join("; ");
  if (problems !== "") {
    if (!partial) {
      throw new EchokitError(
        `Cannot merge: ${problems} (give each segment's file once, or add --partial to merge anyway)`,
      );
    }
    notes.push(`partial merge: ${problems}; the figures cover only the files given`);
  }
  const starts = segmented.map((i) => i.result.segment!.startedAt);
  const startSpreadMs = Math.max(...starts) - Math.min(...starts);
  notes.push(
    `${segmented.length} segments of ${f.count} (plan ${f.planHash}, ${f.planThreads} threads${
      f.startAt === undefined ? "" : `, --start-at ${iso(f.startAt)}`
    }); start spread ${startSpreadMs} ms`,
  );
  return { count: f.count, present, missing, duplicated, startSpreadMs };
}

/** `0, 2, 5` — at most 20 numbers, then how many more. */
function listOf(numbers: readonly number[]): string {
  const shown = numbers.slice(0, 20).join(", ");
  return numbers.length > 20 ? `${shown} and ${numbers.length - 20} more` : shown;
}

/**
 * An epoch-ms time as ISO 8601, for messages.
 *
 * @param ms Epoch ms.
 * @returns E.g. `2026-12-07T05:00:00.000Z`.
 */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
