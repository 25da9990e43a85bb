/**
 * Renders a comparison as GitHub-flavoured Markdown (`report.md`, `--format markdown`).
 *
 * @module
 */
import { allGrids, type Grid, headerLines } from "./tables.ts";
import type { CompareReport } from "./types.ts";

/**
 * Draws one grid as a Markdown table with a bold caption and notes below.
 *
 * @param grid The table.
 * @returns Markdown, no trailing newline.
 *
 * @example Usage
 * ```ts
 * import { markdownGrid } from "./render_markdown.ts";
 * console.log(markdownGrid({
 *   title: "t", header: ["a", "b"], rows: [["x", "1"]], align: ["l", "r"], notes: [],
 * }));
 * ```
 */
export function markdownGrid(grid: Grid): string {
  const row = (cells: string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  const out = [
    `**${escapeCell(grid.title)}**`,
    "",
    row(grid.header),
    `|${grid.align.map((a) => a === "r" ? "---:" : ":---").join("|")}|`,
    ...grid.rows.map(row),
  ];
  if (grid.notes.length > 0) out.push("", ...grid.notes.map((n) => `- ${escapeCell(n)}`));
  return out.join("\n");
}

/**
 * Renders the whole report as Markdown.
 *
 * @param report The comparison.
 * @returns Markdown, ending in a newline.
 *
 * @example Usage
 * ```ts ignore
 * import { renderMarkdown } from "./render_markdown.ts";
 * await Deno.writeTextFile("report.md", renderMarkdown(report));
 * ```
 */
export function renderMarkdown(report: CompareReport): string {
  const [title, ...rest] = headerLines(report);
  const header = [`# ${escapeCell(title)}`, "", ...rest.map((l) => `- ${escapeCell(l)}`)];
  return [header.join("\n"), ...allGrids(report).map(markdownGrid)].join("\n\n") + "\n";
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("*", "\\*").replaceAll("_", "\\_");
}
