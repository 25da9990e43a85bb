/**
 * Runs server modes × plans (and external peers) side by side and renders
 * the comparison: the JMeter-figure headline table, detail tables, Markdown,
 * CSV, JSON, SVG charts and a self-contained HTML report.
 *
 * @example Usage
 * ```ts ignore
 * import { renderTable, runCompare } from "./mod.ts";
 * import { BUILTIN_PLANS, scalePlan } from "../loadgen/mod.ts";
 * const report = await runCompare({
 *   plans: [scalePlan(BUILTIN_PLANS.plan2, 0.01)],
 *   modes: ["stream", "protocol"],
 * });
 * console.log(renderTable(report));
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./aggregate.ts";
export * from "./scenarios.ts";
export * from "./run.ts";
export * from "./memory_guard.ts";
export * from "./peers.ts";
export * from "./micro.ts";
export * from "./tables.ts";
export * from "./render_table.ts";
export * from "./render_markdown.ts";
export * from "./render_csv.ts";
export * from "./render_json.ts";
export * from "./chart_svg.ts";
export * from "./report_html.ts";
export * from "./write_report.ts";
export * from "./merge.ts";
