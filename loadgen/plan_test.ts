import assert from "node:assert/strict";
import { parseFlags } from "../util/flags.ts";
import {
  applyOverrides,
  parsePlanJson,
  PLAN_OPTIONS,
  planOverridesFromFlags,
  planToJson,
  resolvePlan,
  scalePlan,
} from "./plan.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import { DEFAULT_MESSAGE, type Plan } from "./types.ts";
import { assertUsageError as usage, assertUsageRejects as usageAsync } from "./_assert_usage.ts";

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

Deno.test("parsePlanJson() fills defaults and names the plan after the file", () => {
  assert.deepEqual(parsePlanJson('{"threads": 10, "loops": 100}', "dir/small.json"), {
    name: "small",
    threads: 10,
    loops: 100,
    rampUp: 1,
    message: DEFAULT_MESSAGE,
    connectTimeout: 60000,
    responseTimeout: 60000,
    reuseConnection: true,
    onError: "continue",
  });
});

Deno.test("parsePlanJson() reads every field", () => {
  const plan = parsePlanJson(
    JSON.stringify({
      name: "full",
      threads: 3,
      loops: -1,
      duration: 2.5,
      rampUp: 0.5,
      messageSize: 128,
      eolByte: 10,
      connectTimeout: 0,
      responseTimeout: 250,
      reuseConnection: false,
      onError: "stopThread",
      host: "::1",
      port: 9000,
    }),
    "full.json",
  );
  assert.deepEqual(plan, {
    name: "full",
    threads: 3,
    loops: -1,
    duration: 2.5,
    rampUp: 0.5,
    message: DEFAULT_MESSAGE,
    messageSize: 128,
    eolByte: 10,
    connectTimeout: 0,
    responseTimeout: 250,
    reuseConnection: false,
    onError: "stopThread",
    host: "::1",
    port: 9000,
  });
});

Deno.test("parsePlanJson() names the file, the field and what is allowed", () => {
  usage(
    () => parsePlanJson('{"threads": -3, "loops": 1}', "p.json"),
    'Invalid plan file "p.json": field "threads" must be a whole number from 1 to 100000 (got -3)',
  );
  usage(
    () => parsePlanJson('{"threads": "10", "loops": 1}', "p.json"),
    'Invalid plan file "p.json": field "threads" must be a whole number from 1 to 100000 (got "10")',
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 0}', "p.json"),
    /field "loops" must be -1 \(until the duration ends\) or a whole number from 1 to 1000000000 \(got 0\)/,
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "onError": "panic"}', "p.json"),
    'Invalid plan file "p.json": field "onError" must be one of "continue", "stopThread", "stopTest" (got "panic")',
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "eolByte": 256}', "p.json"),
    /field "eolByte" must be a whole number from 0 to 255 \(got 256\)/,
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "rampUp": 1e9}', "p.json"),
    /field "rampUp" must be a number of seconds from 0 to 86400 \(got 1000000000\)/,
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "message": ""}', "p.json"),
    /field "message" must be a non-empty text/,
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "reuseConnection": "yes"}', "p.json"),
    /field "reuseConnection" must be true or false \(got "yes"\)/,
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "port": 0}', "p.json"),
    /field "port" must be a whole number from 1 to 65535 \(got 0\)/,
  );
  usage(
    () => parsePlanJson(`{"threads": 1, "loops": 1, "name": "${"n".repeat(300)}"}`, "p.json"),
    /field "name" must be a one-line text of 1 to 200 characters \(got "n{36}\.\.\.\)/,
  );
});

Deno.test("parsePlanJson() rejects unknown fields, missing fields and contradictions", () => {
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "thread": 2}', "p.json"),
    /^Invalid plan file "p\.json": unknown field "thread" \(allowed: name, threads, loops, /,
  );
  usage(() => parsePlanJson('{"loops": 1}', "p.json"), /field "threads" is required/);
  usage(
    () => parsePlanJson('{"threads": 1}', "p.json"),
    'Invalid plan file "p.json": field "loops" is required unless "duration" is set',
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": -1}', "p.json"),
    /"loops" is -1 \(infinite\) but no "duration" is set/,
  );
  usage(
    () => parsePlanJson('{"threads": 1, "loops": 1, "message": "a", "messageSize": 4}', "p.json"),
    'Invalid plan file "p.json": set "message" or "messageSize", not both',
  );
  // With only a duration, loops defaults to -1 (run until the duration ends).
  assert.equal(parsePlanJson('{"threads": 1, "duration": 5}', "p.json").loops, -1);
});

Deno.test("parsePlanJson() rejects text that is not a JSON object", () => {
  usage(
    () => parsePlanJson("{threads: 1}", "p.json"),
    /^Invalid plan file "p\.json": not valid JSON \(/,
  );
  usage(() => parsePlanJson("[1]", "p.json"), /expected a JSON object/);
  usage(() => parsePlanJson("null", "p.json"), /expected a JSON object/);
  usage(
    () => parsePlanJson('{"__proto__": {"threads": 1}}', "p.json"),
    /unknown field "__proto__"/,
  );
});

Deno.test("planToJson() output reads back as the same plan", () => {
  for (const plan of Object.values(BUILTIN_PLANS)) {
    assert.deepEqual(parsePlanJson(planToJson(plan), "x.json"), plan);
  }
  const sized: Plan = { ...BUILTIN_PLANS.plan1, messageSize: 1000, eolByte: 10, duration: 9 };
  assert.deepEqual(parsePlanJson(planToJson(sized), "x.json"), sized);
});

Deno.test("resolvePlan() resolves built-ins, JSON and .jmx files", async () => {
  assert.deepEqual(await resolvePlan("plan1"), BUILTIN_PLANS.plan1);
  const fromJson = await resolvePlan(fixture("echo_tcp.plan.json"));
  const notes: string[] = [];
  const fromJmx = await resolvePlan(fixture("echo_tcp.jmx"), {}, { warn: (n) => notes.push(n) });
  assert.deepEqual(fromJmx, { ...fromJson, name: "Echo TCP plan 2" });
  assert.deepEqual(notes, ['Ignored <ResultCollector "Summary Report"> (line 51)']);
});

Deno.test("resolvePlan() applies overrides and checks them", async () => {
  const plan = await resolvePlan("plan2", { threads: 7, eolByte: undefined, port: 1234 });
  assert.equal(plan.threads, 7);
  assert.equal(plan.port, 1234);
  assert.ok(!("eolByte" in plan));
  await usageAsync(
    resolvePlan("plan2", { threads: 0 }),
    'Invalid plan override: field "threads" must be a whole number from 1 to 100000 (got 0)',
  );
});

Deno.test("resolvePlan() explains unknown names and unreadable files", async () => {
  await usageAsync(
    resolvePlan("plan3"),
    'Unknown --plan "plan3" (use plan1, plan2, a .json file or a .jmx file)',
  );
  await usageAsync(
    resolvePlan("/nonexistent/p.json"),
    'Cannot read --plan file "/nonexistent/p.json": no such file',
  );
  await usageAsync(
    resolvePlan(new URL("../fixtures", import.meta.url).pathname + "/"),
    /Unknown --plan/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/d.json`);
    await usageAsync(resolvePlan(`${dir}/d.json`), /^Cannot read --plan file ".*d\.json": /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyOverrides() lets a message replace a size and removes unset fields", () => {
  const sized = { ...BUILTIN_PLANS.plan1, messageSize: 512, eolByte: 10 };
  const plan = applyOverrides(sized, { message: "hi\n", eolByte: undefined });
  assert.equal(plan.message, "hi\n");
  assert.ok(!("messageSize" in plan));
  assert.ok(!("eolByte" in plan));
  usage(() => applyOverrides(sized, { name: "" }), /field "name"/);
  usage(
    () => applyOverrides(sized, { nope: 1 } as unknown as Record<string, never>),
    'Unknown plan field "nope"',
  );
});

Deno.test("scalePlan() scales loops, or the duration of an endless plan", () => {
  assert.equal(scalePlan(BUILTIN_PLANS.plan1, 0.1).loops, 200);
  assert.equal(scalePlan(BUILTIN_PLANS.plan2, 0.00001).loops, 1);
  assert.equal(scalePlan(BUILTIN_PLANS.plan2, 2).loops, 40000);
  const endless: Plan = { ...BUILTIN_PLANS.plan2, loops: -1, duration: 60 };
  assert.deepEqual(scalePlan(endless, 0.5), { ...endless, duration: 30 });
  assert.equal(BUILTIN_PLANS.plan1.loops, 2000); // not mutated
  usage(
    () => scalePlan(BUILTIN_PLANS.plan1, 0),
    'Invalid scale "0" (use a number above 0 and at most 1000)',
  );
  usage(() => scalePlan(BUILTIN_PLANS.plan1, NaN), /Invalid scale "NaN"/);
});

Deno.test("planOverridesFromFlags() maps every plan flag", () => {
  const { values } = parseFlags(
    [
      "--threads=8",
      "--loops=-1",
      "--ramp-up=500ms",
      "--message-size=100",
      "--eol-byte=10",
      "--connect-timeout=2s",
      "--response-timeout=750",
      "--no-reuse",
      "--on-error=stop-thread",
      "--duration=1m",
    ],
    PLAN_OPTIONS,
  );
  assert.deepEqual(planOverridesFromFlags(values), {
    threads: 8,
    loops: -1,
    rampUp: 0.5,
    messageSize: 100,
    eolByte: 10,
    connectTimeout: 2000,
    responseTimeout: 750,
    reuseConnection: false,
    onError: "stopThread",
    duration: 60,
  });
  assert.deepEqual(planOverridesFromFlags({}), {});
  const m = planOverridesFromFlags({
    message: "hello\n",
    "eol-byte": "none",
    reuse: true,
    loops: "infinite",
  });
  assert.deepEqual(m, {
    message: "hello\n",
    messageSize: undefined,
    eolByte: undefined,
    reuseConnection: true,
    loops: -1,
  });
  assert.equal(planOverridesFromFlags({ "on-error": "stopTest" }).onError, "stopTest");
});

Deno.test("planOverridesFromFlags() rejects bad values with the flag's name", () => {
  usage(
    () => planOverridesFromFlags({ threads: "0" }),
    'Invalid --threads "0" (use a whole number from 1 to 100000)',
  );
  usage(() => planOverridesFromFlags({ threads: "1.5" }), /Invalid --threads "1\.5"/);
  usage(() => planOverridesFromFlags({ loops: "0" }), /Invalid --loops "0"/);
  usage(() => planOverridesFromFlags({ "ramp-up": "soon" }), /Invalid --ramp-up "soon"/);
  usage(() => planOverridesFromFlags({ "ramp-up": "2d" }), /Invalid --ramp-up "2d"/);
  usage(
    () => planOverridesFromFlags({ "eol-byte": "300" }),
    /Invalid --eol-byte "300" \(use a whole number from 0 to 255\)/,
  );
  usage(
    () => planOverridesFromFlags({ "connect-timeout": "2h" }),
    /Invalid --connect-timeout "2h"/,
  );
  usage(
    () => planOverridesFromFlags({ "response-timeout": "0.5ms" }),
    /Invalid --response-timeout "0\.5ms"/,
  );
  usage(
    () => planOverridesFromFlags({ "on-error": "explode" }),
    /Invalid --on-error "explode" \(use continue, stop-thread, stop-test/,
  );
  usage(
    () => planOverridesFromFlags({ duration: "0" }),
    /Invalid --duration "0" \(use 0\.001 to 2592000 seconds\)/,
  );
  usage(() => planOverridesFromFlags({ message: "" }), /Invalid --message ""/);
  usage(
    () => planOverridesFromFlags({ message: "a", "message-size": "5" }),
    "Use --message or --message-size, not both",
  );
  usage(
    () => planOverridesFromFlags({ reuse: true, "no-reuse": true }),
    "Use --reuse or --no-reuse, not both",
  );
});

Deno.test("PLAN_OPTIONS spreads into parseFlags next to a command's own flags", () => {
  const { values } = parseFlags(["--threads", "3", "--json"], {
    ...PLAN_OPTIONS,
    json: { type: "boolean" },
  });
  assert.equal(values.threads, "3");
  assert.equal(values.json, true);
});
