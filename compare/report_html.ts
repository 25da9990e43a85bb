/**
 * A self-contained HTML report: header, every table and the inline SVG
 * charts in one file with no external resources (`report.html`).
 *
 * @module
 */
import type { Chart } from "./chart_svg.ts";
import { allGrids, type Grid, headerLines } from "./tables.ts";
import type { CompareReport } from "./types.ts";

/**
 * Renders the report as one HTML page.
 *
 * @param report The comparison.
 * @param charts Charts to embed (from `renderCharts`).
 * @returns The HTML document.
 *
 * @example Usage
 * ```ts ignore
 * import { renderCharts } from "./chart_svg.ts";
 * import { renderHtml } from "./report_html.ts";
 * await Deno.writeTextFile("report.html", renderHtml(report, renderCharts(report)));
 * ```
 */
export function renderHtml(report: CompareReport, charts: readonly Chart[]): string {
  const [title, ...rest] = headerLines(report);
  const grids = allGrids(report);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  color: #222; margin: 24px auto; max-width: 1080px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
ul.meta { color: #555; padding-left: 18px; margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; white-space: nowrap; }
th { background: #f6f6f6; text-align: left; font-weight: 600; }
td.r, th.r { text-align: right; }
.scroll { overflow-x: auto; }
p.note { color: #666; margin: 2px 0; font-size: 13px; }
figure { margin: 20px 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<ul class="meta">
${rest.map((l) => `<li>${esc(l)}</li>`).join("\n")}
</ul>
${charts.map((c) => `<figure>\n${c.svg.trim()}\n<figcaption>${esc(c.title)}</figcaption>\n</figure>`).join("\n")}
${grids.map(htmlGrid).join("\n")}
</body>
</html>
`;
}

function htmlGrid(grid: Grid): string {
  const cls = (i: number) => grid.align[i] === "r" ? ' class="r"' : "";
  return [
    `<h2>${esc(grid.title)}</h2>`,
    `<div class="scroll"><table>`,
    `<thead><tr>${grid.header.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join("")}</tr></thead>`,
    `<tbody>`,
    ...grid.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join("")}</tr>`),
    `</tbody></table></div>`,
    ...grid.notes.map((n) => `<p class="note">${esc(n)}</p>`),
  ].join("\n");
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
