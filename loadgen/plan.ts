/**
 * Plans from wherever the user keeps them — a built-in name, a JSON file or a
 * JMeter `.jmx` file — checked field by field, with CLI flag overrides and
 * scaling on top.
 *
 * The JSON format is a {@linkcode Plan} object: `threads` and `loops` (or
 * `duration`) are required, every other field has a default, unknown fields are
 * rejected, and every value is range-checked.
 *
 * @example Usage
 * ```ts
 * import { resolvePlan, scalePlan } from "./plan.ts";
 * const plan = await resolvePlan("plan2", { threads: 10 });
 * console.log(scalePlan(plan, 0.01).loops); // 200
 * ```
 *
 * @module
 */
import {
  type FlagValues,
  oneOf,
  type OptionSpecs,
  parseDuration,
  parseNumber,
} from "../util/flags.ts";
import { UsageError } from "../util/errors.ts";
import { fileErrorReason } from "../util/atomic_write.ts";
import {
  checkPlan,
  defaultName,
  FIELD_NAMES,
  FIELDS,
  MAX_DURATION_S,
  MAX_LOOPS,
  MAX_MESSAGE_BYTES,
  MAX_RAMP_UP_S,
  MAX_THREADS,
  MAX_TIMEOUT_MS,
  reject,
} from "./_plan_fields.ts";
import { parseJmx } from "./jmx.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MESSAGE,
  DEFAULT_RESPONSE_TIMEOUT,
  type OnError,
  type Plan,
} from "./types.ts";

export {
  checkPlan,
  MAX_DURATION_S,
  MAX_LOOPS,
  MAX_MESSAGE_BYTES,
  MAX_RAMP_UP_S,
  MAX_THREADS,
  MAX_TIMEOUT_MS,
  ON_ERROR_VALUES,
} from "./_plan_fields.ts";

/**
 * Changes to apply to a plan. A field that is present replaces the plan's; a
 * field present with the value `undefined` removes an optional field (e.g.
 * `eolByte: undefined` switches to strict echo).
 */
export type PlanOverrides = { [K in keyof Plan]?: Plan[K] | undefined };

/**
 * Parses and checks a JSON plan. `threads` is required; `loops` is required
 * unless `duration` is set (then it defaults to -1); `message` and
 * `messageSize` are exclusive (neither: the default 64-byte message); the
 * other fields default to the built-in plans' values (ramp-up 1 s, 60 s
 * timeouts, reuse, continue on error).
 *
 * @param text The file's text.
 * @param fileName The file's name, for messages and the default plan name.
 * @returns The plan.
 * @throws {UsageError} `Invalid plan file "p.json": field "threads" must be …`
 *
 * @example Usage
 * ```ts
 * import { parsePlanJson } from "./plan.ts";
 * const plan = parsePlanJson('{"threads": 10, "loops": 100}', "small.json");
 * console.log(plan.name, plan.rampUp); // small 1
 * ```
 */
export function parsePlanJson(text: string, fileName: string): Plan {
  const where = `plan file "${fileName}"`;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(`Invalid ${where}: not valid JSON (${why})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(
      `Invalid ${where}: expected a JSON object such as {"threads": 10, "loops": 100}`,
    );
  }
  const fields = data as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!Object.hasOwn(FIELDS, key)) {
      throw new UsageError(
        `Invalid ${where}: unknown field "${key.slice(0, 40)}" (allowed: ${
          FIELD_NAMES.join(", ")
        })`,
      );
    }
  }
  for (const key of Object.keys(fields) as (keyof Plan)[]) {
    const problem = FIELDS[key](fields[key]);
    if (problem) reject(where, key, problem, fields[key]);
  }
  if (fields.threads === undefined) reject(where, "threads", "is required", undefined);
  if (fields.loops === undefined && fields.duration === undefined) {
    throw new UsageError(`Invalid ${where}: field "loops" is required unless "duration" is set`);
  }
  if (fields.message !== undefined && fields.messageSize !== undefined) {
    throw new UsageError(`Invalid ${where}: set "message" or "messageSize", not both`);
  }
  const plan: Plan = {
    name: defaultName(fileName),
    loops: -1,
    rampUp: 1,
    message: DEFAULT_MESSAGE,
    connectTimeout: DEFAULT_CONNECT_TIMEOUT,
    responseTimeout: DEFAULT_RESPONSE_TIMEOUT,
    reuseConnection: true,
    onError: "continue",
    ...(fields as Partial<Plan>),
  } as Plan;
  return checkPlan(plan, where);
}

/**
 * Serialises a plan in the JSON plan-file format ({@linkcode parsePlanJson}
 * reads it back unchanged).
 *
 * @param plan The plan.
 * @returns Pretty JSON with a trailing newline.
 *
 * @example Usage
 * ```ts
 * import { planToJson } from "./plan.ts";
 * import { BUILTIN_PLANS } from "./plans.ts";
 * console.log(planToJson(BUILTIN_PLANS.plan2));
 * ```
 */
export function planToJson(plan: Plan): string {
  const out: Record<string, unknown> = {};
  for (const field of FIELD_NAMES) if (plan[field] !== undefined) out[field] = plan[field];
  if (plan.messageSize !== undefined) delete out.message;
  return JSON.stringify(out, null, 2) + "\n";
}

/**
 * Applies overrides to a plan and checks the result.
 *
 * @param plan The plan.
 * @param overrides Fields to replace (present-but-undefined removes).
 * @returns A new plan.
 * @throws {UsageError} When an override is out of range.
 *
 * @example Usage
 * ```ts
 * import { applyOverrides } from "./plan.ts";
 * import { BUILTIN_PLANS } from "./plans.ts";
 * console.log(applyOverrides(BUILTIN_PLANS.plan1, { threads: 50 }).threads); // 50
 * ```
 */
export function applyOverrides(plan: Readonly<Plan>, overrides: PlanOverrides): Plan {
  const out: Plan = { ...plan };
  for (const key of Object.keys(overrides) as (keyof Plan)[]) {
    if (!Object.hasOwn(FIELDS, key)) throw new UsageError(`Unknown plan field "${key}"`);
    const value = overrides[key];
    if (value === undefined) delete out[key];
    else (out as unknown as Record<string, unknown>)[key] = value;
  }
  // A message given explicitly wins over a size the plan carried.
  if (Object.hasOwn(overrides, "message") && !Object.hasOwn(overrides, "messageSize")) {
    delete out.messageSize;
  }
  // In the flags' words: without a duration, an endless plan is `--loops infinite` alone.
  if (overrides.loops === -1 && out.duration === undefined) {
    throw new UsageError("--loops infinite needs a duration (add --duration TIME)");
  }
  return checkPlan(out, "plan override");
}

/** Options for {@linkcode resolvePlan}. */
export interface ResolvePlanOptions {
  /** Receives notes about .jmx elements that were ignored. @default {no notes} */
  warn?: (message: string) => void;
  /** Reads a file's text (tests inject one). @default {Deno.readTextFile} */
  readTextFile?: (path: string) => Promise<string>;
  /** JMeter properties for a .jmx's `${__P(name)}`, like `jmeter -Jname=value`. @default {{}} */
  properties?: Readonly<Record<string, string>>;
}

/**
 * Resolves a plan spec — `plan1`, `plan2`, a `.json` file or a `.jmx` file —
 * and applies overrides.
 *
 * @param spec A built-in name or a file path.
 * @param overrides Fields to replace, e.g. from {@linkcode planOverridesFromFlags}.
 * @param options Warning sink and file reader.
 * @returns The checked plan.
 * @throws {UsageError} For an unknown name, an unreadable or invalid file, or a bad override.
 *
 * @example Usage
 * ```ts
 * import { resolvePlan } from "./plan.ts";
 * const plan = await resolvePlan("plan1", { loops: 10 });
 * console.log(plan.threads * plan.loops); // 10000
 * ```
 */
export async function resolvePlan(
  spec: string,
  overrides: PlanOverrides = {},
  options: ResolvePlanOptions = {},
): Promise<Plan> {
  let plan: Plan;
  if (Object.hasOwn(BUILTIN_PLANS, spec)) {
    plan = { ...BUILTIN_PLANS[spec as keyof typeof BUILTIN_PLANS] };
  } else if (/\.(json|jmx)$/i.test(spec)) {
    const read = options.readTextFile ?? Deno.readTextFile;
    let text: string;
    try {
      text = await read(spec);
    } catch (err) {
      throw new UsageError(`Cannot read --plan file "${spec}": ${fileErrorReason(err)}`);
    }
    if (/\.json$/i.test(spec)) {
      plan = parsePlanJson(text, spec);
    } else {
      const imported = parseJmx(text, spec, { properties: options.properties });
      for (const note of imported.notes) options.warn?.(note);
      plan = imported.plan;
    }
  } else {
    throw new UsageError(
      `Unknown --plan "${spec}" (use ${
        Object.keys(BUILTIN_PLANS).join(", ")
      }, a .json file or a .jmx file)`,
    );
  }
  return applyOverrides(plan, overrides);
}

/**
 * Scales a plan's length: `loops` (or, for `loops: -1`, `duration`) times
 * `factor`, never below 1 loop. `compare --scale 0.1` uses it for quick runs.
 *
 * @param plan The plan.
 * @param factor A positive multiplier.
 * @returns A new plan.
 * @throws {UsageError} When `factor` is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { scalePlan } from "./plan.ts";
 * import { BUILTIN_PLANS } from "./plans.ts";
 * console.log(scalePlan(BUILTIN_PLANS.plan1, 0.1).loops); // 200
 * ```
 */
export function scalePlan(plan: Readonly<Plan>, factor: number): Plan {
  if (!Number.isFinite(factor) || factor <= 0 || factor > 1000) {
    throw new UsageError(`Invalid scale "${factor}" (use a number above 0 and at most 1000)`);
  }
  const out: Plan = { ...plan };
  if (plan.loops === -1) {
    if (plan.duration !== undefined) {
      out.duration = Math.min(MAX_DURATION_S, Math.max(0.001, plan.duration * factor));
    }
  } else {
    out.loops = Math.min(MAX_LOOPS, Math.max(1, Math.round(plan.loops * factor)));
  }
  return out;
}

/**
 * The plan flags, ready to spread into a command's `parseFlags` options
 * (see {@linkcode PLAN_OPTIONS_HELP} for their help text).
 */
export const PLAN_OPTIONS: OptionSpecs = {
  threads: { type: "string" },
  loops: { type: "string" },
  "ramp-up": { type: "string" },
  message: { type: "string" },
  "message-size": { type: "string" },
  "eol-byte": { type: "string" },
  "connect-timeout": { type: "string" },
  "response-timeout": { type: "string" },
  reuse: { type: "boolean" },
  "no-reuse": { type: "boolean" },
  "on-error": { type: "string" },
  duration: { type: "string" },
};

/** Help lines for {@linkcode PLAN_OPTIONS}, aligned like the CLI's other help. */
export const PLAN_OPTIONS_HELP: string = `Plan overrides (each replaces the plan's value):
  --threads N             virtual users, 1 to ${MAX_THREADS}
  --loops N               samples per thread, 1 to ${MAX_LOOPS}, or "infinite" (needs --duration)
  --ramp-up TIME          start threads over TIME (bare number: seconds; 0 = all at once)
  --message TEXT          request text (replaces --message-size)
  --message-size BYTES    generated request of BYTES bytes ending in a newline
  --eol-byte N|none       JMeter mode: a read ending in byte N (0-255) ends the response;
                          none = strict echo (read back exactly what was sent)
  --connect-timeout TIME  per connection attempt (bare number: ms; 0 = wait forever)
  --response-timeout TIME per response (bare number: ms; 0 = wait forever)
  --reuse, --no-reuse     keep each thread's connection across loops, or reconnect per sample
  --on-error ACTION       continue, stop-thread or stop-test after a failed sample
  --duration TIME         end the whole test TIME after it starts, as JMeter's scheduler: every
                          thread stops then, threads not yet started never start, and --loops
                          still applies, whichever comes first (bare number: seconds)`;

const ON_ERROR_FLAG: Readonly<Record<string, OnError>> = {
  continue: "continue",
  "stop-thread": "stopThread",
  stopThread: "stopThread",
  "stop-test": "stopTest",
  stopTest: "stopTest",
};

/**
 * Turns parsed {@linkcode PLAN_OPTIONS} flag values into plan overrides,
 * checking each value; flags not given are left out.
 *
 * @param values Flag values from `parseFlags`.
 * @returns The overrides.
 * @throws {UsageError} For a bad value or contradictory flags.
 *
 * @example Usage
 * ```ts
 * import { planOverridesFromFlags } from "./plan.ts";
 * console.log(planOverridesFromFlags({ threads: "8", "ramp-up": "500ms" }));
 * // { threads: 8, rampUp: 0.5 }
 * ```
 */
export function planOverridesFromFlags(values: FlagValues): PlanOverrides {
  const out: PlanOverrides = {};
  const text = (name: string): string | undefined => {
    const v = values[name];
    return v === undefined ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v);
  };
  const whole = (name: string, min: number, max: number) => {
    const raw = text(name);
    return raw === undefined ? undefined : parseNumber(`--${name}`, raw, { min, max });
  };
  const threads = whole("threads", 1, MAX_THREADS);
  if (threads !== undefined) out.threads = threads;
  const loops = text("loops");
  if (loops !== undefined) {
    out.loops = /^(infinite|-1)$/.test(loops.trim())
      ? -1
      : parseNumber("--loops", loops, { min: 1, max: MAX_LOOPS });
  }
  const rampUp = text("ramp-up");
  if (rampUp !== undefined) out.rampUp = seconds("--ramp-up", rampUp, 0, MAX_RAMP_UP_S);
  const message = text("message");
  const messageSize = whole("message-size", 1, MAX_MESSAGE_BYTES);
  if (message !== undefined && messageSize !== undefined) {
    throw new UsageError("Use --message or --message-size, not both");
  }
  if (message !== undefined) {
    if (FIELDS.message(message)) {
      throw new UsageError(
        `Invalid --message "${
          message.slice(0, 40)
        }" (use a non-empty text of at most ${MAX_MESSAGE_BYTES} bytes)`,
      );
    }
    out.message = message;
    out.messageSize = undefined;
  }
  if (messageSize !== undefined) out.messageSize = messageSize;
  const eol = text("eol-byte");
  if (eol !== undefined) {
    out.eolByte = eol.trim() === "none"
      ? undefined
      : parseNumber("--eol-byte", eol, { min: 0, max: 255 });
  }
  for (
    const [flag, field] of [["connect-timeout", "connectTimeout"], [
      "response-timeout",
      "responseTimeout",
    ]] as const
  ) {
    const raw = text(flag);
    if (raw === undefined) continue;
    const ms = parseDuration(`--${flag}`, raw, "ms");
    if (!Number.isInteger(ms) || ms > MAX_TIMEOUT_MS) {
      throw new UsageError(
        `Invalid --${flag} "${raw}" (use whole milliseconds up to 1h, or 0 to wait forever)`,
      );
    }
    out[field] = ms;
  }
  if (values.reuse && values["no-reuse"]) {
    throw new UsageError("Use --reuse or --no-reuse, not both");
  }
  if (values.reuse) out.reuseConnection = true;
  if (values["no-reuse"]) out.reuseConnection = false;
  const onError = text("on-error");
  if (onError !== undefined) {
    out.onError = ON_ERROR_FLAG[
      oneOf("--on-error", onError, [
        "continue",
        "stop-thread",
        "stop-test",
        "stopThread",
        "stopTest",
      ])
    ];
  }
  const duration = text("duration");
  if (duration !== undefined) out.duration = seconds("--duration", duration, 0.001, MAX_DURATION_S);
  return out;
}

/** Parses a duration flag given in seconds by default; returns seconds. */
function seconds(flag: string, raw: string, min: number, max: number): number {
  const s = parseDuration(flag, raw, "s") / 1000;
  if (s < min || s > max) {
    throw new UsageError(`Invalid ${flag} "${raw}" (use ${min} to ${max} seconds)`);
  }
  return s;
}
