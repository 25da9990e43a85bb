/**
 * Aligned plain-text columns, shared by every table echokit prints (compare,
 * bench, soak, the adversarial suite).
 *
 * @module
 */
import stringWidth from "string-width";

/** How a column is aligned: `"l"` left, `"r"` right. */
export type Align = "l" | "r";

/** Rows laid out in columns. */
export interface AlignedRows {
  /** One line per row, columns two spaces apart, no trailing spaces. */
  lines: string[];
  /** Each column's width, in terminal columns (display width). */
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

/**
 * The columns a string takes in a terminal: 2 for a CJK character or an
 * emoji, 0 for a combining mark, 1 otherwise (the npm package `string-width`).
 *
 * @param s The text.
 * @returns Its display width.
 *
 * @example Usage
 * ```ts
 * import { displayWidth } from "./text_table.ts";
 * console.log(displayWidth("東京"), displayWidth("ok")); // 4 2
 * ```
 */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

const width = displayWidth;
