/**
 * Aligned plain-text columns, shared by every table echokit prints (compare,
 * bench, soak, the adversarial suite).
 *
 * @module
 */

/** How a column is aligned: `"l"` left, `"r"` right. */
export type Align = "l" | "r";

/** Rows laid out in columns. */
export interface AlignedRows {
  /** One line per row, columns two spaces apart, no trailing spaces. */
  lines: string[];
  /** Each column's width, in characters. */
  widths: number[];
}

/**
 * Pads every cell to its column's widest cell (counted in code points, so
 * "µ", "×" and "–" are one column each) and joins the columns with two spaces.
 *
 * @param rows The cells, header row included; every row as long as the first.
 * @param align Each column's alignment, by column index.
 * @returns The lines and the column widths.
 *
 * @example Usage
 * ```ts
 * import { alignRows } from "./text_table.ts";
 * const { lines } = alignRows([["mode", "rate"], ["stream", "9"]], (i) => i === 0 ? "l" : "r");
 * console.log(lines.join("\n"));
 * ```
 */
export function alignRows(rows: string[][], align: (column: number) => Align): AlignedRows {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => width(r[i] ?? ""))));
  const lines = rows.map((cells) =>
    cells.map((c, i) => {
      const gap = " ".repeat(Math.max(0, widths[i] - width(c)));
      return align(i) === "r" ? gap + c : c + gap;
    }).join("  ").trimEnd()
  );
  return { lines, widths };
}

function width(s: string): number {
  return [...s].length;
}
