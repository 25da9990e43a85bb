/**
 * The plan fields' rules, shared by the JSON and .jmx readers. Private to
 * `loadgen/`; `plan.ts` re-exports the public parts.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import type { OnError, Plan } from "./types.ts";

/** The values `onError` accepts. */
export const ON_ERROR_VALUES: readonly OnError[] = ["continue", "stopThread", "stopTest"];

/** Largest `threads` a plan may ask for. */
export const MAX_THREADS = 100_000;
/** Largest `loops` a plan may ask for. */
export const MAX_LOOPS = 1_000_000_000;
/** Largest `messageSize` (and encoded `message`), bytes: 16 MiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Largest timeout, ms: one hour (0 means wait forever). */
export const MAX_TIMEOUT_MS = 3_600_000;
/** Largest `rampUp`, seconds: one day. */
export const MAX_RAMP_UP_S = 86_400;
/** Largest `duration`, seconds: 30 days. */
export const MAX_DURATION_S = 2_592_000;

type Check = (value: unknown) => string | undefined;

const wholeNumber = (min: number, max: number): Check => (v) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
    ? undefined
    : `must be a whole number from ${min} to ${max}`;

export const FIELDS: Readonly<Record<keyof Plan, Check>> = {
  name: (v) =>
    typeof v === "string" && v.trim() !== "" && v.length <= 200 && !/[\r\n]/.test(v)
      ? undefined
      : "must be a one-line text of 1 to 200 characters",
  threads: wholeNumber(1, MAX_THREADS),
  loops: (v) =>
    typeof v === "number" && Number.isInteger(v) && (v === -1 || (v >= 1 && v <= MAX_LOOPS))
      ? undefined
      : `must be -1 (until the duration ends) or a whole number from 1 to ${MAX_LOOPS}`,
  rampUp: (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_RAMP_UP_S
      ? undefined
      : `must be a number of seconds from 0 to ${MAX_RAMP_UP_S}`,
  message: (v) =>
    typeof v === "string" && v.length > 0 && v.length <= MAX_MESSAGE_BYTES &&
      new TextEncoder().encode(v).length <= MAX_MESSAGE_BYTES
      ? undefined
      : `must be a non-empty text of at most ${MAX_MESSAGE_BYTES} bytes`,
  messageSize: wholeNumber(1, MAX_MESSAGE_BYTES),
  eolByte: wholeNumber(0, 255),
  connectTimeout: wholeNumber(0, MAX_TIMEOUT_MS),
  responseTimeout: wholeNumber(0, MAX_TIMEOUT_MS),
  reuseConnection: (v) => typeof v === "boolean" ? undefined : "must be true or false",
  onError: (v) =>
    typeof v === "string" && (ON_ERROR_VALUES as readonly string[]).includes(v)
      ? undefined
      : `must be one of ${ON_ERROR_VALUES.map((x) => `"${x}"`).join(", ")}`,
  duration: (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0.001 && v <= MAX_DURATION_S
      ? undefined
      : `must be a number of seconds from 0.001 to ${MAX_DURATION_S}`,
  delay: (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_DURATION_S
      ? undefined
      : `must be a number of seconds from 0 to ${MAX_DURATION_S}`,
  label: (v) =>
    typeof v === "string" && v.trim() !== "" && v.length <= 200 && !/[\r\n]/.test(v)
      ? undefined
      : "must be a one-line text of 1 to 200 characters",
  threadGroup: (v) =>
    typeof v === "string" && v.trim() !== "" && v.length <= 200 && !/[\r\n]/.test(v)
      ? undefined
      : "must be a one-line text of 1 to 200 characters",
  noDelay: (v) => typeof v === "boolean" ? undefined : "must be true or false",
  timerMs: wholeNumber(0, MAX_TIMEOUT_MS),
  charset: (v) =>
    v === "UTF-8" || v === "ISO-8859-1" || v === "US-ASCII"
      ? undefined
      : 'must be "UTF-8", "ISO-8859-1" or "US-ASCII"',
  randomTimer: (v) => {
    const t = v as Record<string, unknown>;
    return typeof v === "object" && v !== null && !Array.isArray(v) &&
        (t.distribution === "uniform" || t.distribution === "gaussian") &&
        wholeNumber(0, MAX_TIMEOUT_MS)(t.rangeMs) === undefined &&
        Object.keys(t).every((k) => ["distribution", "rangeMs"].includes(k))
      ? undefined
      : 'must be {"distribution": "uniform"|"gaussian", "rangeMs": whole ms}';
  },
  throughput: (v) => {
    const t = v as Record<string, unknown>;
    return typeof v === "object" && v !== null && !Array.isArray(v) &&
        typeof t.perMinute === "number" && Number.isFinite(t.perMinute) && t.perMinute > 0 &&
        t.perMinute <= 60_000_000 &&
        ["thread", "active", "shared", "precise"].includes(t.mode as string) &&
        Object.keys(t).every((k) => ["perMinute", "mode"].includes(k))
      ? undefined
      : 'must be {"perMinute": number above 0, "mode": "thread"|"active"|"shared"|"precise"}';
  },
  transaction: (v) => {
    const t = v as Record<string, unknown>;
    const oneLine = (x: unknown) =>
      typeof x === "string" && x.trim() !== "" && x.length <= 200 && !/[\r\n]/.test(x);
    const flag = (x: unknown) => x === undefined || typeof x === "boolean";
    return typeof v === "object" && v !== null && !Array.isArray(v) && oneLine(t.name) &&
        flag(t.parentSample) && flag(t.includeTimers) &&
        Object.keys(t).every((k) => ["name", "parentSample", "includeTimers"].includes(k))
      ? undefined
      : 'must be {"name": text, "parentSample"?: true|false, "includeTimers"?: true|false}';
  },
  host: (v) =>
    typeof v === "string" && /^[^\s/]{1,255}$/.test(v)
      ? undefined
      : "must be a host name or address of 1 to 255 characters without spaces",
  port: wholeNumber(1, 65535),
};

export const FIELD_NAMES = Object.keys(FIELDS) as (keyof Plan)[];

/** Shows a rejected value briefly: JSON, cut to 40 characters. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function reject(where: string, field: string, problem: string, value: unknown): never {
  throw new UsageError(`Invalid ${where}: field "${field}" ${problem} (got ${shown(value)})`);
}

/**
 * Checks a complete plan (e.g. after overrides): every field typed and in
 * range, `message` and `messageSize` not both set.
 *
 * @param plan The plan to check.
 * @param where What to call it in the error (`plan file "p.json"`).
 * @returns The same plan.
 * @throws {UsageError} Naming the field, what is allowed and the value given.
 *
 * @example Usage
 * ```ts
 * import { checkPlan } from "./plan.ts";
 * import { BUILTIN_PLANS } from "./plans.ts";
 * checkPlan({ ...BUILTIN_PLANS.plan1 }, "plan");
 * ```
 */
export function checkPlan(plan: Plan, where: string): Plan {
  for (const field of FIELD_NAMES) {
    const value = plan[field];
    if (value === undefined) {
      if (field === "message" || !isOptional(field)) reject(where, field, "is required", value);
      continue;
    }
    const problem = FIELDS[field](value);
    if (problem) reject(where, field, problem, value);
  }
  if (plan.loops === -1 && plan.duration === undefined) {
    // An endless plan would never finish on its own: a hang for scripts and CI.
    throw new UsageError(
      `Invalid ${where}: "loops" is -1 (infinite) but no "duration" is set (set a duration or a loop count)`,
    );
  }
  return plan;
}

function isOptional(field: keyof Plan): boolean {
  return [
    "messageSize",
    "eolByte",
    "duration",
    "delay",
    "label",
    "threadGroup",
    "timerMs",
    "charset",
    "randomTimer",
    "throughput",
    "noDelay",
    "transaction",
    "host",
    "port",
  ]
    .includes(field);
}

/** A plan's default name: the file's base name without its extension. */
export function defaultName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const name = base.replace(/\.[^.]*$/, "").slice(0, 200);
  return name.trim() === "" || /[\r\n]/.test(name) ? "plan" : name;
}
