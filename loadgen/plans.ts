import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MESSAGE,
  DEFAULT_RESPONSE_TIMEOUT,
  type Plan,
} from "./types.ts";

const common = {
  message: DEFAULT_MESSAGE,
  connectTimeout: DEFAULT_CONNECT_TIMEOUT,
  responseTimeout: DEFAULT_RESPONSE_TIMEOUT,
  reuseConnection: true,
  onError: "continue",
} as const;

/**
 * The built-in plans of the original benchmark: `plan1` (many connections) and
 * `plan2` (fewer, longer-lived connections), both with a 1 s ramp-up.
 *
 * @example Usage
 * ```ts
 * import { BUILTIN_PLANS } from "./plans.ts";
 * console.log(BUILTIN_PLANS.plan1.threads); // 1000
 * ```
 */
export const BUILTIN_PLANS: Readonly<Record<"plan1" | "plan2", Readonly<Plan>>> = {
  plan1: { name: "plan1", threads: 1000, loops: 2000, rampUp: 1, ...common },
  plan2: { name: "plan2", threads: 100, loops: 20000, rampUp: 1, ...common },
};
