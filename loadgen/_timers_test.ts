import assert from "node:assert/strict";
import { CTRL, type EngineConfig } from "./_engine_types.ts";
import { SampleTimers, THROUGHPUT_UNSET } from "./_timers.ts";
import { startServerProcess } from "../servers/child.ts";
import { splitJtlRow } from "./jtl.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import { runLoad } from "./run.ts";

function config(extra: Partial<EngineConfig>): EngineConfig {
  const control = new SharedArrayBuffer(CTRL.size * 4);
  Atomics.store(new Int32Array(control), CTRL.throughputLast, THROUGHPUT_UNSET);
  return {
    engine: "async",
    worker: 0,
    hostname: "127.0.0.1",
    port: 1,
    threads: 2,
    indices: [0, 1],
    loops: 1,
    rampUpMs: 0,
    connectTimeout: 0,
    responseTimeout: 0,
    reuseConnection: true,
    onError: "continue",
    message: new Uint8Array(1),
    startTime: 1_000_000,
    warmupEnd: 0,
    jtl: false,
    tickMs: 100,
    control,
    ...extra,
  };
}

Deno.test("SampleTimers.delayMs() is 0 and any is false without timers", () => {
  const t = new SampleTimers(config({}));
  assert.equal(t.any, false);
  assert.equal(t.delayMs(0, 1_000_500), 0);
});

Deno.test("SampleTimers.delayMs() paces each thread alone in thread mode (calcMode 0)", () => {
  // 120 a minute: one sample each 500 ms per thread; the first goes at once.
  const t = new SampleTimers(config({ throughput: { perMinute: 120, mode: "thread" } }));
  assert.equal(t.delayMs(0, 1_000_000), 0);
  assert.equal(t.delayMs(0, 1_000_100), 400);
  assert.equal(t.delayMs(1, 1_000_100), 0);
  // Behind schedule: no wait, and the next target counts from now.
  assert.equal(t.delayMs(0, 1_002_000), 0);
  assert.equal(t.delayMs(0, 1_002_000), 500);
});

Deno.test("SampleTimers.delayMs() multiplies by the active threads in active mode (calcModes 1, 2)", () => {
  const c = config({ throughput: { perMinute: 120, mode: "active" } });
  Atomics.store(new Int32Array(c.control), CTRL.active, 3);
  const t = new SampleTimers(c);
  assert.equal(t.delayMs(0, 1_000_000), 0);
  assert.equal(t.delayMs(0, 1_000_000), 1500);
});

Deno.test("SampleTimers.delayMs() shares one schedule across threads and workers in shared mode", () => {
  const c = config({ throughput: { perMinute: 600, mode: "shared" } });
  const a = new SampleTimers(c);
  const b = new SampleTimers(c); // a second worker over the same control block
  assert.equal(a.delayMs(0, 1_000_000), 0);
  assert.equal(b.delayMs(0, 1_000_000), 100);
  assert.equal(a.delayMs(1, 1_000_000), 200);
  // Behind: the schedule restarts from now (JMeter's calculateSharedDelay).
  assert.equal(b.delayMs(1, 1_005_000), 0);
  assert.equal(a.delayMs(0, 1_005_000), 100);
});

Deno.test("SampleTimers.delayMs() never re-bases the precise schedule", () => {
  const c = config({ throughput: { perMinute: 600, mode: "precise" }, delayMs: 1000 });
  const t = new SampleTimers(c);
  assert.equal(t.delayMs(0, 1_000_000), 1000);
  assert.equal(t.delayMs(1, 1_000_000), 1100);
  // Late: go at once, and event 3 stays at its own time.
  assert.equal(t.delayMs(0, 1_001_500), 0);
  assert.equal(t.delayMs(1, 1_001_000), 300);
});

Deno.test("SampleTimers.delayMs() adds a uniform random part within its range to the constant", () => {
  const t = new SampleTimers(
    config({ timerMs: 100, randomTimer: { distribution: "uniform", rangeMs: 50 } }),
  );
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const d = t.delayMs(0, 1_000_000);
    assert.ok(d >= 100 && d < 150, `delay ${d}`);
    seen.add(d);
  }
  assert.ok(seen.size > 5, "the delay varies");
});

for (const engine of ["poll", "async"] as const) {
  Deno.test(`runLoad() with the ${engine} engine spaces samples by a shared throughput timer`, async () => {
    const server = await startServerProcess({ mode: "stream" });
    const path = await Deno.makeTempFile({ suffix: ".jtl" });
    try {
      // 600 a minute shared by 2 threads: one sample each 100 ms, 8 in all.
      const r = await runLoad({
        plan: {
          ...BUILTIN_PLANS.plan2,
          threads: 2,
          rampUp: 0,
          loops: 4,
          throughput: { perMinute: 600, mode: "shared" },
        },
        hostname: "127.0.0.1",
        port: server.addr.port,
        engine,
        jtl: path,
        workers: 2,
      });
      assert.equal(r.samples, 8);
      const stamps = (await Deno.readTextFile(path)).trim().split("\n").slice(1)
        .map((row) => Number(splitJtlRow(row)[0])).sort((a, b) => a - b);
      // Without the timer the 8 samples take a few ms; with it, 7 gaps of 100 ms.
      assert.ok(stamps[7] - stamps[0] >= 690, `${engine}: spread ${stamps[7] - stamps[0]} ms`);
    } finally {
      await server.stop();
      await Deno.remove(path);
    }
  });
}
