import assert from "node:assert/strict";
import { startServerProcess } from "../servers/child.ts";
import type { EngineName } from "./_engine_types.ts";
import { groupEndAt, threadRuns, threadStartAt } from "./_schedule.ts";
import { splitJtlRow } from "./jtl.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import { runLoad } from "./run.ts";

Deno.test("threadStartAt() spaces starts by rampUp/threads after the startup delay", () => {
  const c = { threads: 10, rampUpMs: 4000, delayMs: 500, durationMs: 2000, startTime: 1000 };
  assert.equal(threadStartAt(c, 0), 1500);
  assert.equal(threadStartAt(c, 3), 2700);
  assert.equal(groupEndAt(c), 3500);
  assert.equal(groupEndAt({ ...c, durationMs: undefined }), Infinity);
  // Threads 0-4 start before the end time (1.5 s + 0.4 s·i < 3.5 s); 5-9 never start.
  const runs = Array.from({ length: 10 }, (_, i) => threadRuns(threadStartAt(c, i), groupEndAt(c)));
  assert.deepEqual(runs, [true, true, true, true, true, false, false, false, false, false]);
});

const ENGINES: EngineName[] = ["poll", "async"];

for (const engine of ENGINES) {
  Deno.test(`runLoad() with the ${engine} engine ends at the test-wide end time, not duration per thread`, async () => {
    const server = await startServerProcess({ mode: "stream" });
    const path = await Deno.makeTempFile({ suffix: ".jtl" });
    try {
      const t0 = Date.now();
      const r = await runLoad({
        plan: { ...BUILTIN_PLANS.plan2, threads: 10, rampUp: 4, loops: -1, duration: 2 },
        hostname: "127.0.0.1",
        port: server.addr.port,
        engine,
        jtl: path,
      });
      const wall = Date.now() - t0;
      // Per-thread duration would run 4 s of ramp-up + 2 s = 6 s.
      assert.ok(r.endTime - r.startTime < 2500, `${engine}: ran ${r.endTime - r.startTime} ms`);
      assert.ok(wall < 5000, `${engine}: runLoad took ${wall} ms`);
      assert.ok(r.samples > 0 && r.errors === 0, `${engine}: ${r.samples} samples`);
      // Threads due at 2.0 s or later never start: 5 of the 10 ran.
      const rows = (await Deno.readTextFile(path)).trim().split("\n");
      const col = splitJtlRow(rows[0]).indexOf("threadName");
      const threads = new Set(rows.slice(1).map((row) => splitJtlRow(row)[col]));
      assert.equal(threads.size, 5, `${engine}: ${[...threads].join(", ")}`);
    } finally {
      await server.stop();
      await Deno.remove(path);
    }
  });
}

Deno.test("runLoad() honours the startup delay: no sample starts before it", async () => {
  const server = await startServerProcess({ mode: "stream" });
  const path = await Deno.makeTempFile({ suffix: ".jtl" });
  try {
    const r = await runLoad({
      plan: { ...BUILTIN_PLANS.plan2, threads: 2, rampUp: 0, loops: 3, delay: 0.6 },
      hostname: "127.0.0.1",
      port: server.addr.port,
      jtl: path,
    });
    assert.equal(r.samples, 6);
    const rows = (await Deno.readTextFile(path)).trim().split("\n").slice(1);
    const first = Math.min(...rows.map((row) => Number(row.split(",")[0])));
    assert.ok(first - r.startTime >= 590, `first sample ${first - r.startTime} ms after the start`);
  } finally {
    await server.stop();
    await Deno.remove(path);
  }
});
