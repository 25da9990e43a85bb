import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import { formatWork, parseWork } from "./work.ts";

Deno.test("parseWork() reads sleep, block, cpu and file work", () => {
  assert.deepEqual(parseWork("sleep:5ms"), { kind: "sleep", ms: 5 });
  assert.deepEqual(parseWork("block:1s"), { kind: "block", ms: 1000 });
  assert.deepEqual(parseWork("cpu:200us"), { kind: "cpu", ms: 0.2 });
  assert.deepEqual(parseWork("cpu:3"), { kind: "cpu", ms: 3 });
  assert.deepEqual(parseWork("file:/tmp/a:b"), { kind: "file", path: "/tmp/a:b" });
});

Deno.test("parseWork() rejects other forms with the allowed ones", () => {
  for (
    const raw of ["", "sleep", "sleep:", "cpu:0ms", "cpu:-1ms", "block:2m", "spin:1ms", "file:"]
  ) {
    assert.throws(() => parseWork(raw), UsageError, raw);
  }
  assert.throws(
    () => parseWork("spin:1ms"),
    /^UsageError: Invalid --work "spin:1ms" \(use sleep:DURATION, block:DURATION, cpu:DURATION or file:PATH\)$/,
  );
});

Deno.test("formatWork() round-trips through parseWork()", () => {
  for (const raw of ["sleep:10ms", "block:5ms", "cpu:200us", "cpu:1500us", "file:/etc/hosts"]) {
    assert.equal(formatWork(parseWork(raw)), raw);
  }
});

/**
 * Runs `code` (which sees `work.ts` as `w`) in a child Deno and returns what it
 * printed as JSON, plus the child's own CPU seconds: a test process running
 * other tests on other threads would blur the CPU measured in-process.
 */
async function inChild(code: string): Promise<Record<string, number>> {
  const workUrl = new URL("./work.ts", import.meta.url).href;
  const script = `import * as w from "${workUrl}";
const cpu = () => { const s = Deno.readTextFileSync("/proc/self/stat");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" "); return (Number(f[11]) + Number(f[12])) / 100; };
${code}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name: "blockFor() blocks the thread for the time asked without using CPU",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { waited, cpu } = await inChild(`
const c0 = cpu(); const t0 = performance.now();
w.blockFor(300);
console.log(JSON.stringify({ waited: performance.now() - t0, cpu: cpu() - c0 }));`);
    assert.ok(waited >= 300, `waited ${waited} ms`);
    assert.ok(cpu < 0.1, `used ${cpu} s of CPU`);
  },
});

Deno.test({
  name: "burnCpu() spends about the CPU time asked after calibrateCpu()",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { iterationsPerMs, tookMs, cpu } = await inChild(`
const { iterationsPerMs, tookMs } = w.calibrateCpu();
const c0 = cpu();
for (let i = 0; i < 100; i++) w.burnCpu(3, iterationsPerMs);
console.log(JSON.stringify({ iterationsPerMs, tookMs, cpu: cpu() - c0 }));`);
    assert.ok(iterationsPerMs > 1000, `${iterationsPerMs} iterations/ms`);
    // 80 ms of CPU: at least that much wall time, more on a busy machine.
    assert.ok(tookMs >= 80, `calibration took ${tookMs} ms`);
    // 0.3 s asked; ticks are 10 ms and runtime threads add a little. A core
    // shared with a busy neighbour runs fewer iterations per CPU ms than it
    // did at calibration, so the bounds are loose (either way): what this catches is a
    // burn that does nothing, or one that ignores the calibration.
    assert.ok(cpu >= 0.1 && cpu <= 1.2, `used ${cpu} s of CPU for 0.3 s asked`);
  },
});
