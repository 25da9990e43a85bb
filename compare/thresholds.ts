/**
 * `--threshold` on a comparison: every threshold applies to every run of
 * every cell (server × scenario); a cell fails when one of its runs fails one.
 *
 * @module
 */
import { checkThresholds, formatThresholdLines, type Threshold } from "../loadgen/thresholds.ts";
import type { CompareReport, RunThresholds } from "./types.ts";

export type { RunThresholds };

/**
 * Evaluates thresholds on every run that produced a result, and records each
 * outcome on the run's result (`runs[].result.thresholds`) and in
 * `report.thresholds`. Skipped runs are not judged.
 *
 * @param report The comparison.
 * @param thresholds The thresholds.
 * @returns The report with outcomes added.
 *
 * @example Usage
 * ```ts ignore
 * import { checkReportThresholds } from "./thresholds.ts";
 * import { parseThresholds } from "../loadgen/thresholds.ts";
 * const judged = checkReportThresholds(report, parseThresholds(["p99<5ms"]));
 * ```
 */
export function checkReportThresholds(
  report: CompareReport,
  thresholds: readonly Threshold[],
): CompareReport {
  if (thresholds.length === 0) return report;
  const labels = new Map(report.scenarios.map((s) => [s.id, s.label]));
  const judged: RunThresholds[] = [];
  const runs = report.runs.map((run) => {
    if (!run.result) return run;
    const outcomes = checkThresholds(thresholds, run.result);
    judged.push({
      server: run.server,
      scenario: run.scenario,
      label: labels.get(run.scenario) ?? run.scenario,
      repeat: run.repeat,
      outcomes,
    });
    return { ...run, result: { ...run.result, thresholds: outcomes } };
  });
  return { ...report, runs, thresholds: judged };
}

/**
 * The threshold lines of a judged report: one per run and threshold, then the
 * cells that failed (or that all passed).
 *
 * @param report A report from {@linkcode checkReportThresholds}.
 * @returns The lines (none without thresholds).
 */
export function formatReportThresholds(report: CompareReport): string[] {
  const judged = report.thresholds ?? [];
  if (judged.length === 0) return [];
  const lines: string[] = [];
  const failed = new Set<string>();
  for (const r of judged) {
    const cell = `${r.server} · ${r.label}`;
    const rep = judged.some((o) => o.repeat > 0) ? ` (repeat ${r.repeat + 1})` : "";
    lines.push(...formatThresholdLines(r.outcomes, `${cell}${rep}: `));
    if (r.outcomes.some((o) => !o.pass)) failed.add(cell);
  }
  lines.push(
    failed.size === 0
      ? "thresholds: every cell passed"
      : `thresholds failed in ${failed.size} cell(s): ${[...failed].join(", ")}`,
  );
  return lines;
}

/**
 * Whether any run of the report failed a threshold.
 *
 * @param report A report from {@linkcode checkReportThresholds}.
 * @returns True when one failed.
 */
export function thresholdsFailed(report: CompareReport): boolean {
  return (report.thresholds ?? []).some((r) => r.outcomes.some((o) => !o.pass));
}
