/**
 * Writes a comparison to a folder: `report.md`, `results.json`,
 * `results.csv`, the SVG charts and a self-contained `report.html`.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { renderCharts } from "./chart_svg.ts";
import { renderCsv } from "./render_csv.ts";
import { renderJson } from "./render_json.ts";
import { renderMarkdown } from "./render_markdown.ts";
import { renderHtml } from "./report_html.ts";
import type { CompareReport } from "./types.ts";

/**
 * Writes every output of a report into `dir` (created if missing); each file
 * is replaced atomically.
 *
 * @param report The comparison.
 * @param dir The folder.
 * @returns The paths written.
 * @throws {EchokitError} When the folder cannot be created or written.
 *
 * @example Usage
 * ```ts ignore
 * import { writeReport } from "./write_report.ts";
 * const files = await writeReport(report, "out/compare");
 * console.log(files.join("\n"));
 * ```
 */
export async function writeReport(report: CompareReport, dir: string): Promise<string[]> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new EchokitError(
      `Cannot create output folder "${dir}": ${err instanceof Error ? err.message : err}`,
    );
  }
  const charts = renderCharts(report);
  const files: [string, string][] = [
    ["report.md", renderMarkdown(report)],
    ["results.json", renderJson(report)],
    ["results.csv", renderCsv(report)],
    ...charts.map((c): [string, string] => [c.file, c.svg]),
    ["report.html", renderHtml(report, charts)],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = `${dir.replace(/\/+$/, "")}/${name}`;
    await writeFileAtomic(path, text);
    written.push(path);
  }
  return written;
}
