/**
 * Renders a comparison as aligned plain-text tables for the terminal.
 *
 * @module
 */
import { alignRows } from "../util/text_table.ts";
import { allGrids, type Grid, headerLines } from "./tables.ts";
import type { CompareReport } from "./types.ts";

/**
 * Draws one grid as aligned text: header, a rule, rows, then its notes.
 *
 * @param grid The table.
 * @returns Lines joined with `\n`, no trailing newline.
 *
 * @example Usage
 * ```ts
 * import { drawGrid } from "./render_table.ts";
 * console.log(drawGrid({
 *   title: "t", header: ["a", "b"], rows: [["x", "1"]], align: ["l", "r"], notes: [],
 * }));
 * ```
 */
export function drawGrid(grid: Grid): string {
  const { lines, widths } = alignRows([grid.header, ...grid.rows], (i) => grid.align[i]);
  const out = [
    grid.title,
    lines[0],
    widths.map((w) => "─".repeat(w)).join("  "),
    ...lines.slice(1),
    ...grid.notes.map((n) => `  ${n}`),
  ];
  return out.join("\n");
}

/**
 * Renders the whole report as text: header lines, headline table, one detail
 * table per plan (or the micro table).
 *
 * @param report The comparison.
 * @returns The text, ending in a newline.
 *
 * @example Usage
 * ```ts ignore
 * import { renderTable } from "./render_table.ts";
 * console.log(renderTable(report));
 * ```
 */
export function renderTable(report: CompareReport): string {
  return [headerLines(report).join("\n"), ...allGrids(report).map(drawGrid)].join("\n\n") + "\n";
}
