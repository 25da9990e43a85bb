/**
 * JMeter `summary =` figures for a headline cell. Private to `compare/`.
 *
 * TEMPORARY: until `loadgen-core`'s summariser lands, this formats the figures
 * itself; it then becomes a call into `loadgen/summariser.ts`.
 *
 * @module
 */
import type { HeadlineFigures } from "./types.ts";

/**
 * Formats `count in HH:MM:SS = rate/s Avg: N` with JMeter's rules, without
 * the column padding (a table aligns its own cells).
 *
 * @param h The figures.
 * @returns The cell text.
 */
export function formatHeadlineFigures(h: HeadlineFigures): string {
  const seconds = Math.floor((h.elapsedMs + 500) / 1000);
  const hh = String(Math.floor(seconds / 3600)).padStart(2, "0");
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  const rate = h.elapsedMs > 0 ? ((h.count / h.elapsedMs) * 1000).toFixed(1) : "******";
  return `${h.count} in ${hh}:${mm}:${ss} = ${rate}/s Avg: ${h.avgMs}`;
}
