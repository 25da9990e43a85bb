import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { cpuSeconds } from "./testing.ts";
import { blockFor, burnCpu, calibrateCpu, formatWork, parseWork } from "./work.ts";

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

Deno.test({
  name: "blockFor() blocks the thread for the time asked without using CPU",
  ignore: Deno.build.os !== "linux",
  fn() {
    const cpu0 = cpuSeconds(Deno.pid)!;
    const t0 = performance.now();
    blockFor(300);
    const waited = performance.now() - t0;
    const cpu = cpuSeconds(Deno.pid)! - cpu0;
    assert.ok(waited >= 300, `waited ${waited} ms`);
    assert.ok(cpu < 0.1, `used ${cpu} s of CPU`);
  },
});

Deno.test({
  name: "burnCpu() spends about the CPU time asked after calibrateCpu()",
  ignore: Deno.build.os !== "linux",
  fn() {
    const { iterationsPerMs, tookMs } = calibrateCpu();
    assert.ok(iterationsPerMs > 1000, `${iterationsPerMs} iterations/ms`);
    // 80 ms of CPU: at least that much wall time, more on a busy machine.
    assert.ok(tookMs >= 80, `calibration took ${tookMs} ms`);
    const cpu0 = cpuSeconds(Deno.pid)!;
    for (let i = 0; i < 100; i++) burnCpu(3, iterationsPerMs);
    const cpu = cpuSeconds(Deno.pid)! - cpu0;
    // 0.3 s asked; ticks are 10 ms and other threads add a little.
    assert.ok(cpu >= 0.2 && cpu <= 0.6, `used ${cpu} s of CPU for 0.3 s asked`);
  },
});
