/**
 * Scenarios: the plans a comparison runs, expanded over `--connections` and
 * `--rate` levels.
 *
 * @module
 */
import type { Plan } from "../loadgen/types.ts";
import type { Scenario } from "./types.ts";

/** A scenario with the exact plan it runs. */
export interface PlannedScenario extends Scenario {
  /** The plan as run. */
  runPlan: Plan;
}

/** Sweep levels for {@linkcode buildScenarios}. */
export interface SweepOptions {
  /** Connection counts: each plan runs once per count. */
  connections?: readonly number[];
  /** Open-model rates, samples/s: each plan runs once per rate. */
  rates?: readonly number[];
}

/**
 * Expands plans into scenarios. A connection level sets the plan's threads
 * and divides its samples evenly among them (total samples stay the same,
 * so every level takes about as long); a rate level runs the plan as an
 * open model at that total rate.
 *
 * @param plans The plans (already scaled).
 * @param sweep Connection and rate levels.
 * @returns The scenarios, plan-major, levels ascending.
 *
 * @example Usage
 * ```ts
 * import { buildScenarios } from "./scenarios.ts";
 * import { BUILTIN_PLANS } from "../loadgen/plans.ts";
 * const s = buildScenarios([BUILTIN_PLANS.plan2], { connections: [10, 1000] });
 * console.log(s.map((x) => `${x.connections}×${x.loops}`)); // ["10×200000", "1000×2000"]
 * ```
 */
export function buildScenarios(
  plans: readonly Plan[],
  sweep: SweepOptions = {},
): PlannedScenario[] {
  const out: PlannedScenario[] = [];
  for (const plan of plans) {
    const levels = [...new Set(sweep.connections ?? [])].sort((a, b) => a - b);
    const rates = [...new Set(sweep.rates ?? [])].sort((a, b) => a - b);
    const bases: PlannedScenario[] = levels.length === 0
      ? [{
        id: plan.name,
        plan: plan.name,
        connections: plan.threads,
        loops: plan.loops,
        label: plan.name,
        runPlan: plan,
      }]
      : levels.map((c) => {
        const loops = plan.loops === -1
          ? -1
          : Math.max(1, Math.round((plan.threads * plan.loops) / c));
        return {
          id: `${plan.name}@c${c}`,
          plan: plan.name,
          connections: c,
          loops,
          label: `${plan.name} · ${c} conns`,
          runPlan: { ...plan, threads: c, loops },
        };
      });
    if (rates.length === 0) {
      out.push(...bases);
      continue;
    }
    for (const base of bases) {
      for (const rate of rates) {
        out.push({
          ...base,
          id: `${base.id}@r${rate}`,
          rate,
          label: `${base.label} · ${rate}/s`,
        });
      }
    }
  }
  return out;
}
