/**
 * JMeter `summary =` figures for a headline cell, cut from the summariser's
 * own line so every number is formatted by JMeter's rules in one place.
 * Private to `compare/`.
 *
 * @module
 */
import { formatSummaryLine } from "../loadgen/summary_line.ts";
import type { HeadlineFigures } from "./types.ts";

/**
 * Formats `count in HH:MM:SS = rate/s Avg: N` (plus ` Err: N` when any
 * failed), JMeter's padding collapsed since a table aligns its own cells.
 *
 * @param h The figures.
 * @returns The cell text.
 */
export function formatHeadlineFigures(h: HeadlineFigures): string {
  const line = formatSummaryLine({
    type: "=",
    count: h.count,
    elapsedMs: h.elapsedMs,
    // Avg is already JMeter's truncated mean; avg × count divides back to it exactly.
    sumElapsedMs: h.avgMs * h.count,
    minMs: h.minMs,
    maxMs: h.maxMs,
    errors: h.errors,
  });
  const m = / =\s+(\d+ in \S+ = \s*\S+\/s Avg:\s+\d+)/.exec(line);
  if (!m) throw new Error(`Unexpected summary line "${line}"`);
  const figures = m[1].replace(/\s+/g, " ");
  return h.errors > 0 ? `${figures} Err: ${h.errors}` : figures;
}
