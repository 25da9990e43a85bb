/**
 * Renders a comparison as CSV: one row per plan × server with every figure
 * (medians and spreads), for spreadsheets and scripts.
 *
 * @module
 */
import type { Cell, CompareReport, Stat } from "./types.ts";

/** The CSV columns, in order. */
export const CSV_COLUMNS: readonly string[] = [
  "scenario",
  "plan",
  "connections",
  "loops",
  "requested_rate",
  "server",
  "kind",
  "runs",
  "skipped",
  "samples",
  "elapsed_ms",
  "avg_ms",
  "errors",
  "rate",
  "rate_min",
  "rate_max",
  "ratio",
  "p50_us",
  "p99_us",
  "p99_us_min",
  "p99_us_max",
  "error_percent",
  "cpu_percent",
  "cpu_us_per_msg",
  "peak_rss_bytes",
  "peak_vsz_bytes",
  "fair_p5",
  "fair_p95",
  "syscalls_per_msg",
  "notes",
  "load_cpu_percent",
];

/**
 * Renders the report's cells as CSV (RFC 4180 quoting, `\n` line ends).
 *
 * @param report The comparison.
 * @returns CSV text with a header row, ending in a newline.
 *
 * @example Usage
 * ```ts ignore
 * import { renderCsv } from "./render_csv.ts";
 * await Deno.writeTextFile("results.csv", renderCsv(report));
 * ```
 */
export function renderCsv(report: CompareReport): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const scenario of report.scenarios) {
    for (const server of report.servers) {
      const cell: Cell | undefined = report.cells.find((c) =>
        c.scenario === scenario.id && c.server === server.name
      );
      const h = cell?.headline;
      const values: (string | number | undefined)[] = [
        scenario.id,
        scenario.plan,
        scenario.connections,
        scenario.loops,
        scenario.rate,
        server.name,
        server.kind,
        cell?.runs ?? 0,
        cell?.skipped,
        h?.count,
        h?.elapsedMs,
        h?.avgMs,
        h?.errors,
        num(cell?.rate?.median),
        num(cell?.rate?.min),
        num(cell?.rate?.max),
        num(cell?.ratio, 4),
        num(cell?.p50Us?.median),
        num(cell?.p99Us?.median),
        num(cell?.p99Us?.min),
        num(cell?.p99Us?.max),
        num(cell?.errorPercent?.median, 4),
        med(cell?.cpuPercent),
        med(cell?.cpuUsPerMessage),
        med(cell?.peakRssBytes, 0),
        med(cell?.peakVszBytes, 0),
        med(cell?.fairnessP5),
        med(cell?.fairnessP95),
        med(cell?.syscallsPerMessage),
        cell?.notes.join("; "),
        med(cell?.loadCpuPercent),
      ];
      lines.push(values.map(field).join(","));
    }
  }
  return lines.join("\n") + "\n";
}

function med(s: Stat | undefined, digits = 2): string | undefined {
  return num(s?.median, digits);
}

function num(v: number | undefined, digits = 2): string | undefined {
  if (v === undefined || !Number.isFinite(v)) return undefined;
  return String(Number(v.toFixed(digits)));
}

function field(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
