import assert from "node:assert/strict";
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import { DEFAULT_MAX_THREADS } from "../servers/types.ts";
import { BLOCKING_THREAD_BYTES, guardThreads, readMemAvailable } from "./memory_guard.ts";
import { runCompare } from "./run.ts";

const GiB = 2 ** 30;

Deno.test("readMemAvailable() reads the MemAvailable line in kB", () => {
  const text = "MemTotal:       25165824 kB\nMemFree:  100 kB\nMemAvailable:   16777216 kB\n";
  assert.equal(readMemAvailable(text), 16 * GiB);
  assert.equal(readMemAvailable("MemTotal: 1 kB\n"), undefined);
});

Deno.test("guardThreads() lets a plan run when threads × cost fits 60% of available memory", () => {
  const d = guardThreads({ connections: 1000, maxThreads: 1000, memAvailableBytes: 20 * GiB });
  assert.equal(d.action, "ok");
  assert.equal(d.threads, 1000);
  assert.equal(d.message, "");
});

Deno.test("guardThreads() defaults to the blocking server's own --max-threads cap", () => {
  // No maxThreads: the estimate is for the threads `serve --mode blocking` would start.
  const d = guardThreads({ connections: 10_000, memAvailableBytes: undefined });
  assert.equal(DEFAULT_MAX_THREADS, 128);
  assert.equal(d.wanted, DEFAULT_MAX_THREADS);
  assert.equal(d.estimateBytes, DEFAULT_MAX_THREADS * BLOCKING_THREAD_BYTES);
  // 128 threads × 9 MiB fit 60% of 4 GiB; 1024 threads would not.
  const fits = guardThreads({ connections: 10_000, memAvailableBytes: 4 * GiB });
  assert.equal(fits.action, "ok");
  assert.equal(fits.threads, DEFAULT_MAX_THREADS);
  // Fewer connections than the cap: one thread each.
  assert.equal(guardThreads({ connections: 50, memAvailableBytes: undefined }).wanted, 50);
});

Deno.test("guardThreads() caps threads to what fits and says so", () => {
  const d = guardThreads({ connections: 10_000, maxThreads: 10_000, memAvailableBytes: 10 * GiB });
  assert.equal(d.action, "cap");
  assert.equal(d.threads, Math.floor((10 * GiB * 0.6) / BLOCKING_THREAD_BYTES));
  assert.match(d.message, /10000 threads × 8\.0 MiB ≈ 78\.1 GiB exceeds the 6\.0 GiB budget/);
  assert.match(d.message, /capped at --max-threads \d+/);
});

Deno.test("guardThreads() skips when fewer than the minimum threads fit or policy is skip", () => {
  const tiny = guardThreads({ connections: 100, maxThreads: 100, memAvailableBytes: 50 * 2 ** 20 });
  assert.equal(tiny.action, "skip");
  assert.match(tiny.message, /skipped \(lower --connections or free memory\)/);
  const policy = guardThreads({
    connections: 10_000,
    maxThreads: 10_000,
    memAvailableBytes: 10 * GiB,
    policy: "skip",
  });
  assert.equal(policy.action, "skip");
});

Deno.test("guardThreads() does not guard when available memory is unknown", () => {
  const d = guardThreads({ connections: 50_000, maxThreads: 50_000, memAvailableBytes: undefined });
  assert.equal(d.action, "ok");
});

Deno.test("runCompare() skips the blocking mode with the guard's message when memory is short", async () => {
  let loads = 0;
  const warnings: string[] = [];
  const events: string[] = [];
  const report = await runCompare({
    plans: [{ ...BUILTIN_PLANS.plan1, loops: 1 }],
    modes: ["blocking"],
    memAvailable: () => 10 * 2 ** 20,
    runPlan: () => {
      loads++;
      throw new Error("must not load a skipped server");
    },
    onProgress: (e) => {
      events.push(e.type);
      if (e.type === "warning") warnings.push(e.message);
    },
  });
  assert.equal(loads, 0);
  // Said before any server starts: between the run's start and end, nothing else.
  assert.deepEqual(events, ["run-start", "warning", "run-end"]);
  assert.equal(report.runs[0].wallMs, 0);
  assert.match(report.cells[0].skipped ?? "", /^memory guard: 1000 threads × 8\.0 MiB/);
  assert.match(warnings[0], /blocking · plan1: memory guard/);
});
