/**
 * Deterministic fuzzing of the plan readers: thousands of mutated JSON plans
 * and .jmx files must produce either a valid plan or a UsageError — never
 * another exception and never a hang.
 */
import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import { parseJmx } from "./jmx.ts";
import { checkPlan, parsePlanJson, planToJson } from "./plan.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import { seededRandom as prng } from "../servers/testing.ts";

const JMX = await Deno.readTextFile(new URL("../fixtures/echo_tcp.jmx", import.meta.url));
const JSON_SEEDS = [
  await Deno.readTextFile(new URL("../fixtures/echo_tcp.plan.json", import.meta.url)),
  planToJson(BUILTIN_PLANS.plan1),
  planToJson({ ...BUILTIN_PLANS.plan2, messageSize: 100, duration: 5, loops: -1 }),
  '{"threads": 1, "loops": 1}',
];

const TOKENS = [
  "<",
  ">",
  "&",
  "&amp;",
  "&#x0;",
  "&#1114112;",
  "&#65;",
  "&lt;",
  "&unknown;",
  "<![CDATA[",
  "]]>",
  "<!--",
  "-->",
  "<!DOCTYPE x>",
  "<!ENTITY e 'x'>",
  "<?pi?>",
  "${",
  "}",
  "${__P(threads,",
  "${x}",
  '"',
  "'",
  "/>",
  "</hashTree>",
  "<hashTree>",
  "<hashTree/>",
  ' enabled="false"',
  "-1",
  "0",
  "99999999999999",
  "1e400",
  "NaN",
  "\u0000",
  "\uFFFF",
  "\uD800",
  "\n",
  " ",
  "=",
  '<TCPSampler testclass="TCPSampler">',
  "</TCPSampler>",
  '<ThreadGroup testname="g">',
  "</ThreadGroup>",
  '<stringProp name="TCPSampler.request">',
  "</stringProp>",
  "<a",
  "</a>",
  '{"',
  '":',
  "[",
  "]",
  "{",
  ",",
  "null",
  "true",
  "-0",
  "1.5",
  '"\\u0000"',
  "__proto__",
];

const VALUES: unknown[] = [
  0,
  -1,
  1,
  1.5,
  -3,
  1e9,
  1e21,
  Number.MAX_SAFE_INTEGER,
  "",
  "x",
  "10",
  "continue",
  "stopTest",
  true,
  false,
  null,
  [],
  [1],
  {},
  { threads: 1 },
  "\n",
  "a".repeat(300),
  255,
  256,
  65535,
  65536,
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/** One random text edit: replace, insert, delete, duplicate or truncate. */
function mutateText(rand: () => number, text: string): string {
  const at = Math.floor(rand() * (text.length + 1));
  const len = Math.floor(rand() * 40);
  switch (Math.floor(rand() * 6)) {
    case 0:
      return text.slice(0, at) + pick(rand, TOKENS) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + len);
    case 2: {
      const from = Math.floor(rand() * text.length);
      return text.slice(0, at) + text.slice(from, from + len * 4) + text.slice(at);
    }
    case 3:
      return text.slice(0, at);
    case 4:
      return text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x80)) +
        text.slice(at + 1);
    default:
      return text.slice(0, at) + pick(rand, TOKENS) + text.slice(at + len);
  }
}

/** One structural JSON edit: a field set to a random value, removed, or an unknown one added. */
function mutateJson(rand: () => number, text: string): string {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return text;
  const keys = [
    ...Object.keys(data),
    "threads",
    "loops",
    "message",
    "messageSize",
    "duration",
    "bogus",
  ];
  const key = pick(rand, keys);
  const r = rand();
  if (r < 0.2) delete data[key];
  else data[key] = pick(rand, VALUES);
  return JSON.stringify(data);
}

function expectPlanOrUsageError(parse: () => unknown, input: string): void {
  try {
    parse();
  } catch (err) {
    if (err instanceof UsageError) {
      assert.ok(err.message.length > 0 && !err.message.endsWith("."), err.message);
      return;
    }
    throw new Error(`Not a UsageError for input ${JSON.stringify(input.slice(0, 300))}`, {
      cause: err,
    });
  }
}

Deno.test("parsePlanJson() turns 3000 mutated JSON plans into plans or UsageErrors only", () => {
  const rand = prng(0x5eed);
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    let text = pick(rand, JSON_SEEDS);
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) {
      text = rand() < 0.6 ? mutateJson(rand, text) : mutateText(rand, text);
    }
    expectPlanOrUsageError(() => {
      const plan = parsePlanJson(text, "fuzz.json");
      checkPlan(plan, "fuzzed plan"); // whatever is accepted must be a valid plan
      accepted++;
    }, text);
  }
  // The fuzzer must exercise both outcomes, or it is not testing much.
  assert.ok(accepted > 100 && accepted < 2900, `accepted ${accepted} of 3000`);
});

Deno.test("parseJmx() turns 3000 mutated .jmx files into plans or UsageErrors only", () => {
  const rand = prng(0x1a2b3c);
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    let text = JMX;
    const edits = 1 + Math.floor(rand() * 6);
    for (let e = 0; e < edits; e++) text = mutateText(rand, text);
    expectPlanOrUsageError(() => {
      const { plan } = parseJmx(text, "fuzz.jmx");
      checkPlan(plan, "fuzzed plan");
      accepted++;
    }, text);
  }
  assert.ok(accepted > 100 && accepted < 2900, `accepted ${accepted} of 3000`);
});

Deno.test("parseJmx() survives random bytes and pathological nesting", () => {
  const rand = prng(42);
  for (let i = 0; i < 500; i++) {
    const length = Math.floor(rand() * 400);
    let text = "";
    for (let c = 0; c < length; c++) {
      text += rand() < 0.3 ? pick(rand, TOKENS) : String.fromCharCode(Math.floor(rand() * 0x3000));
    }
    expectPlanOrUsageError(() => parseJmx(text, "noise.jmx"), text);
  }
  const deep = "<jmeterTestPlan>" + "<hashTree>".repeat(100_000);
  expectPlanOrUsageError(() => parseJmx(deep, "deep.jmx"), deep);
  const wide = `<jmeterTestPlan><hashTree>${"<x/>".repeat(200_000)}</hashTree></jmeterTestPlan>`;
  expectPlanOrUsageError(() => parseJmx(wide, "wide.jmx"), wide);
  const refs = `<jmeterTestPlan a="${"&amp;".repeat(100_000)}"/>`;
  expectPlanOrUsageError(() => parseJmx(refs, "refs.jmx"), refs);
});
