/**
 * The load generator: JMeter-style thread/loop plans, JMeter-exact summary
 * lines, server CPU and memory, JTL and JSON outputs.
 *
 * @example Usage
 * ```ts
 * import { BUILTIN_PLANS } from "./mod.ts";
 * console.log(BUILTIN_PLANS.plan2.threads); // 100
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./plans.ts";
export * from "./summariser.ts";
export * from "./summary_line.ts";
export * from "./plan.ts";
export * from "./jmx.ts";
export * from "./jtl.ts";
export * from "./report.ts";
export * from "./run.ts";
export * from "./histogram.ts";
export * from "./resource_monitor.ts";
