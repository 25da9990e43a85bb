/**
 * Renders a comparison as aligned plain-text tables for the terminal.
 *
 * @module
 */
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
  const widths = grid.header.map((h, i) =>
    Math.max(width(h), ...grid.rows.map((r) => width(r[i] ?? "")))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => pad(c, widths[i], grid.align[i])).join("  ").trimEnd();
  const out = [
    grid.title,
    line(grid.header),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...grid.rows.map(line),
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

function width(s: string): number {
  // Code points, not UTF-16 units: "µ", "×" and "–" are one column each.
  return [...s].length;
}

function pad(s: string, w: number, align: "l" | "r"): string {
  const gap = " ".repeat(Math.max(0, w - width(s)));
  return align === "r" ? gap + s : s + gap;
}
