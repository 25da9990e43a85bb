/**
 * Renders a comparison as one JSON document (`--format json`, `results.json`).
 *
 * @module
 */
import type { CompareReport } from "./types.ts";
import { schemaTag } from "../util/schema.ts";

/** Bumped when the JSON document's shape changes incompatibly. */
export const REPORT_SCHEMA_VERSION = 1;

/** Options for {@linkcode renderJson}. */
export interface RenderJsonOptions {
  /** Keep each run's per-interval series and latency histogram (larger). @default {false} */
  series?: boolean;
}

/**
 * Renders the report as JSON: `schema` (`echokit/compare-report`), `schemaVersion`, `meta`, `scenarios`, `servers`,
 * `cells` (medians and spreads), `runs` (each run's LoadResult), `micro`.
 *
 * @param report The comparison.
 * @param options Whether to keep time series.
 * @returns Pretty-printed JSON, ending in a newline.
 *
 * @example Usage
 * ```ts ignore
 * import { renderJson } from "./render_json.ts";
 * const doc = JSON.parse(renderJson(report));
 * console.log(doc.schema, doc.schemaVersion); // echokit/compare-report 1
 * ```
 */
export function renderJson(report: CompareReport, options: RenderJsonOptions = {}): string {
  const runs = options.series ? report.runs : report.runs.map((run) => {
    if (!run.result) return run;
    const { intervals: _i, ...result } = run.result;
    return {
      ...run,
      result: {
        ...result,
        latency: { ...result.latency, histogram: undefined },
        server: result.server && { ...result.server, series: undefined },
        generator: { ...result.generator, series: undefined },
      },
    };
  });
  return JSON.stringify(
    { ...schemaTag("compare-report", REPORT_SCHEMA_VERSION), ...report, runs },
    null,
    2,
  ) + "\n";
}
