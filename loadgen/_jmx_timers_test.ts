import assert from "node:assert/strict";
import { parseJmx } from "./jmx.ts";
import { assertUsageError as usage } from "./_assert_usage.ts";
import { jmx } from "./_jmx_testing.ts";

/** A Constant Throughput Timer as JMeter 2.13 to 5.x save it (a TestBean). */
function ctt(calcMode: string, perMinute = "600.0"): string {
  return `<ConstantThroughputTimer guiclass="TestBeanGUI" testclass="ConstantThroughputTimer" testname="pace">
      <intProp name="calcMode">${calcMode}</intProp>
      <doubleProp>
        <name>throughput</name>
        <value>${perMinute}</value>
        <savedValue>0.0</savedValue>
      </doubleProp>
    </ConstantThroughputTimer><hashTree/>`;
}

Deno.test("parseJmx() maps each Constant Throughput Timer calcMode to a throughput mode", () => {
  const modes = ["thread", "active", "active", "shared", "shared"];
  for (const [calcMode, mode] of modes.entries()) {
    const { plan } = parseJmx(jmx({ extra: ctt(String(calcMode)) }), "c.jmx");
    assert.deepEqual(plan.throughput, { perMinute: 600, mode }, `calcMode ${calcMode}`);
  }
  const fixture = new URL("../fixtures/jmx/conformance_throughput.jmx", import.meta.url);
  const { plan } = parseJmx(Deno.readTextFileSync(fixture), "conformance_throughput.jmx");
  assert.deepEqual(plan.throughput, { perMinute: 600, mode: "thread" });
  assert.equal(plan.timerMs, undefined);
});

Deno.test("parseJmx() refuses a calcMode it does not run and a zero throughput, with the line", () => {
  const text = jmx({ extra: ctt("5") });
  const line = text.split("\n").findIndex((l) => l.includes('name="calcMode"')) + 1;
  usage(
    () => parseJmx(text, "m.jmx"),
    new RegExp(
      `^Invalid JMeter plan "m\\.jmx": line ${line}: <ConstantThroughputTimer "pace">: calcMode "5" is not one echokit runs \\(use 0 this thread only, 1 or 2 all active threads, 3 or 4 all active threads shared\\)$`,
    ),
  );
  usage(
    () => parseJmx(jmx({ extra: ctt("0", "0.0") }), "z.jmx"),
    /<ConstantThroughputTimer "pace">: "throughput" must be a number above 0 \(got "0\.0"; disable the timer for no pacing\)$/,
  );
  usage(
    () => parseJmx(jmx({ extra: ctt("0") + ctt("1") }), "two.jmx"),
    /a second throughput timer in scope \(after <ConstantThroughputTimer "pace"> on line \d+\)/,
  );
});

Deno.test("parseJmx() reads Uniform and Gaussian Random Timers, their offsets summed with Constant Timers", () => {
  const random = (kind: string, offset: string, range: string) =>
    `<${kind} guiclass="x" testclass="${kind}" testname="r">
      <stringProp name="ConstantTimer.delay">${offset}</stringProp>
      <stringProp name="RandomTimer.range">${range}</stringProp></${kind}><hashTree/>`;
  const constant =
    `<ConstantTimer testclass="ConstantTimer" testname="c"><stringProp name="ConstantTimer.delay">5</stringProp></ConstantTimer><hashTree/>`;
  const u = parseJmx(jmx({ extra: random("UniformRandomTimer", "0", "100.0") }), "u.jmx").plan;
  assert.deepEqual(u.randomTimer, { distribution: "uniform", rangeMs: 100 });
  assert.equal(u.timerMs, undefined);
  const g = parseJmx(
    jmx({ extra: constant + random("GaussianRandomTimer", "${__P(off,300)}", "50") }),
    "g.jmx",
    { properties: { off: "200" } },
  ).plan;
  assert.deepEqual(g.randomTimer, { distribution: "gaussian", rangeMs: 50 });
  assert.equal(g.timerMs, 205);
  usage(
    () =>
      parseJmx(
        jmx({
          extra: random("UniformRandomTimer", "0", "10") + random("GaussianRandomTimer", "0", "1"),
        }),
        "rr.jmx",
      ),
    /<GaussianRandomTimer "r">: a second Random Timer in scope \(after <UniformRandomTimer "r"> on line \d+\); echokit runs one \(disable the other\)$/,
  );
  usage(
    () => parseJmx(jmx({ extra: random("UniformRandomTimer", "0", "lots") }), "bad.jmx"),
    /<UniformRandomTimer "r">: "RandomTimer\.range" must be a number from 0 \(got "lots"\)$/,
  );
});

Deno.test("parseJmx() reads a Precise Throughput Timer per period and refuses batches", () => {
  const precise = (batch: string) =>
    `<PreciseThroughputTimer guiclass="TestBeanGUI" testclass="PreciseThroughputTimer" testname="p">
      <doubleProp><name>throughput</name><value>30.0</value><savedValue>0.0</savedValue></doubleProp>
      <intProp name="throughputPeriod">10</intProp>
      <intProp name="batchSize">${batch}</intProp></PreciseThroughputTimer><hashTree/>`;
  const { plan, notes } = parseJmx(jmx({ extra: precise("1") }), "p.jmx");
  assert.deepEqual(plan.throughput, { perMinute: 180, mode: "precise" });
  assert.ok(notes.some((n) => n.includes("evenly spaced")), notes.join("\n"));
  usage(
    () => parseJmx(jmx({ extra: precise("4") }), "b.jmx"),
    /<PreciseThroughputTimer "p">: "batchSize" 4 is not supported \(echokit sends single events; set 1\)$/,
  );
});
