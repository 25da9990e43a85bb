/**
 * The timers of a .jmx Thread Group as plan fields, for `jmx.ts`: JMeter
 * sums every timer in scope before each sample, and `_timers.ts` computes
 * that sum from `timerMs`, `randomTimer` and `throughput`. Private to
 * `loadgen/`.
 *
 * - Constant Timer: `ConstantTimer.delay` ms, summed into `timerMs`.
 * - Uniform / Gaussian Random Timer: `RandomTimer.range` (ms, a double) is
 *   the random part, `ConstantTimer.delay` its offset (added to `timerMs`).
 * - Constant Throughput Timer: `throughput` per minute, `calcMode` 0..4 as
 *   JMeter's `ConstantThroughputTimer.Mode` (0 this thread only; 1 all active
 *   threads; 2 all active threads in this group; 3 and 4 the same, shared).
 * - Precise Throughput Timer (JMeter 4.0+): `throughput` per
 *   `throughputPeriod` seconds, `batchSize` 1 only.
 *
 * @module
 */
import type { XmlElement } from "./_xml.ts";
import { integer, JmxProblem, label, propsOf, textOf } from "./_jmx_tree.ts";
import { MAX_TIMEOUT_MS } from "./_plan_fields.ts";
import type { Plan, Throughput } from "./types.ts";

/** The timer elements `readTimers` turns into plan fields. */
export const JMX_TIMERS: ReadonlySet<string> = new Set([
  "ConstantTimer",
  "UniformRandomTimer",
  "GaussianRandomTimer",
  "ConstantThroughputTimer",
  "PreciseThroughputTimer",
]);

/** JMeter's `ConstantThroughputTimer.Mode` ordinals and the library's modes. */
const CALC_MODES: readonly Throughput["mode"][] = [
  "thread",
  "active",
  "active",
  "shared",
  "shared",
];

type Expand = (raw: string, prop: XmlElement, owner: XmlElement) => string;

/** The one timer of a kind in scope: a second one is refused, naming both. */
function onlyOne(first: XmlElement | undefined, t: XmlElement, kind: string): XmlElement {
  if (first) {
    throw new JmxProblem(
      `${label(t)}: a second ${kind} in scope (after ${
        label(first)
      } on line ${first.line}); echokit runs one (disable the other)`,
      t.line,
    );
  }
  return t;
}

/**
 * The plan fields of the timers in a Thread Group's scope.
 *
 * @param timers The enabled timer elements, each one of {@linkcode JMX_TIMERS}.
 * @param expand The plan's `${…}` expander.
 * @param notes Where to add what was interpreted.
 * @returns `timerMs`, `randomTimer` and `throughput`, each only when set.
 * @throws {JmxProblem} A value JMeter would not run, a mode echokit does not
 * run, or a second random or throughput timer.
 */
export function readTimers(
  timers: readonly XmlElement[],
  expand: Expand,
  notes: string[],
): Pick<Plan, "timerMs" | "randomTimer" | "throughput"> {
  const out: Pick<Plan, "timerMs" | "randomTimer" | "throughput"> = {};
  let timerMs = 0;
  let random: XmlElement | undefined;
  let pacing: XmlElement | undefined;
  for (const t of timers) {
    const tp = propsOf(t);
    const text = (name: string) => {
      const p = tp.get(name);
      return p ? expand(textOf(p), p, t).trim() : "";
    };
    const whole = (name: string, min: number, max: number) =>
      integer(text(name), name, [t, tp], min, max, false);
    const line = (name: string) => tp.get(name)?.line ?? t.line;
    if (t.name === "ConstantTimer" || t.name.endsWith("RandomTimer")) {
      timerMs += whole("ConstantTimer.delay", 0, MAX_TIMEOUT_MS) ?? 0;
    }
    if (t.name.endsWith("RandomTimer")) {
      random = onlyOne(random, t, "Random Timer");
      const range = decimal(text("RandomTimer.range"), "RandomTimer.range", t, line, 0);
      const rangeMs = Math.round(range);
      if (rangeMs !== range) notes.push(`${label(t)}: range ${range} ms rounded to ${rangeMs} ms`);
      if (rangeMs > MAX_TIMEOUT_MS) {
        throw new JmxProblem(
          `${label(t)}: "RandomTimer.range" must be at most ${MAX_TIMEOUT_MS} ms (got "${range}")`,
          line("RandomTimer.range"),
        );
      }
      out.randomTimer = {
        distribution: t.name === "UniformRandomTimer" ? "uniform" : "gaussian",
        rangeMs,
      };
    } else if (t.name.endsWith("ThroughputTimer")) {
      pacing = onlyOne(pacing, t, "throughput timer");
      out.throughput = t.name === "ConstantThroughputTimer"
        ? constantThroughput(t, text, line)
        : preciseThroughput(t, text, line, whole, notes);
    }
  }
  if (timerMs > MAX_TIMEOUT_MS) {
    throw new JmxProblem(
      `the timers add up to ${timerMs} ms, more than ${MAX_TIMEOUT_MS} ms`,
      timers[0].line,
    );
  }
  if (timerMs > 0) out.timerMs = timerMs;
  return out;
}

function constantThroughput(
  t: XmlElement,
  text: (name: string) => string,
  line: (name: string) => number,
): Throughput {
  const perMinute = decimal(text("throughput"), "throughput", t, line, Number.MIN_VALUE);
  const modeText = text("calcMode") || "0";
  const mode = /^\d$/.test(modeText) ? CALC_MODES[Number(modeText)] : undefined;
  if (!mode) {
    throw new JmxProblem(
      `${label(t)}: calcMode "${
        modeText.slice(0, 20)
      }" is not one echokit runs (use 0 this thread only, 1 or 2 all active threads, 3 or 4 all active threads shared)`,
      line("calcMode"),
    );
  }
  return { perMinute, mode };
}

function preciseThroughput(
  t: XmlElement,
  text: (name: string) => string,
  line: (name: string) => number,
  whole: (name: string, min: number, max: number) => number | undefined,
  notes: string[],
): Throughput {
  const per = decimal(text("throughput"), "throughput", t, line, Number.MIN_VALUE);
  const period = whole("throughputPeriod", 1, 31_536_000) ?? 3600;
  const batch = whole("batchSize", 0, 1_000_000) ?? 1;
  if (batch > 1) {
    throw new JmxProblem(
      `${label(t)}: "batchSize" ${batch} is not supported (echokit sends single events; set 1)`,
      line("batchSize"),
    );
  }
  notes.push(
    `${
      label(t)
    }: events evenly spaced at ${per}/${period} s (JMeter draws Poisson arrivals); its duration, seed and surplus settings are not used`,
  );
  return { perMinute: per * 60 / period, mode: "precise" };
}

/** A JMeter double (`600.0`) at least `min`. */
function decimal(
  raw: string,
  name: string,
  t: XmlElement,
  line: (name: string) => number,
  min: number,
): number {
  // Java's getPropertyAsDouble reads an empty value as 0.
  const n = raw === ""
    ? 0
    : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)
    ? Number(raw)
    : NaN;
  if (!Number.isFinite(n) || n < min || n > 60_000_000) {
    throw new JmxProblem(
      `${label(t)}: "${name}" must be a number ${min > 0 ? "above" : "from"} 0 (got "${
        raw.slice(0, 40)
      }"${min > 0 ? "; disable the timer for no pacing" : ""})`,
      line(name),
    );
  }
  return n;
}
