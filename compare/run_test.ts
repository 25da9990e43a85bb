import assert from "node:assert/strict";
import { EchokitError } from "../util/errors.ts";
import type { Plan } from "../loadgen/types.ts";
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import { type CompareProgress, runCompare } from "./run.ts";

/** A few hundred samples: enough to be real, quick enough for a test. */
const TINY: Plan = { ...BUILTIN_PLANS.plan2, name: "tiny", threads: 4, loops: 50, rampUp: 0 };

Deno.test("runCompare() runs real stream and protocol servers and fills every cell", async () => {
  const events: CompareProgress[] = [];
  const report = await runCompare({
    plans: [TINY],
    modes: ["stream", "protocol"],
    repeat: 2,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(report.servers.map((s) => s.name), ["stream", "protocol"]);
  assert.equal(report.runs.length, 4);
  // Interleaved and rotated: the second repetition starts with the other server.
  assert.deepEqual(report.runs.map((r) => `${r.repeat}:${r.server}`), [
    "0:stream",
    "0:protocol",
    "1:protocol",
    "1:stream",
  ]);
  for (const run of report.runs) {
    assert.equal(run.skipped, undefined, run.skipped);
    assert.equal(run.result?.samples, 200);
    assert.equal(run.result?.errors, 0);
    assert.ok(run.result?.target.pid, "the server's pid was sampled");
  }
  for (const cell of report.cells) {
    assert.equal(cell.runs, 2);
    assert.equal(cell.rate?.n, 2);
    assert.ok(cell.rate!.median > 0);
    assert.ok(cell.peakRssBytes && cell.peakRssBytes.median > 1e6, "server RSS was measured");
  }
  assert.ok(report.cells.some((c) => c.ratio === 1));
  const starts = events.filter((e) => e.type === "run-start");
  assert.equal(starts.length, 4);
  assert.deepEqual(starts.map((e) => e.type === "run-start" && e.index), [1, 2, 3, 4]);
});

Deno.test("runCompare() reports a server that exits before serving as a skipped cell", async () => {
  const report = await runCompare({
    plans: [TINY],
    modes: ["stream"],
    peers: [{
      name: "broken",
      command: [
        Deno.execPath(),
        "eval",
        "console.error('error: no can do'); Deno.exit(3)",
        "{port}",
      ],
    }],
    repeat: 2,
  });
  const broken = report.cells.find((c) => c.server === "broken")!;
  assert.equal(broken.skipped, "no can do");
  // Found once: the second repetition does not start it again.
  assert.equal(report.runs.filter((r) => r.server === "broken").every((r) => r.skipped), true);
  assert.equal(report.cells.find((c) => c.server === "stream")?.runs, 2);
});

Deno.test("runCompare() records a load failure as skipped and stops the server", async () => {
  const report = await runCompare({
    plans: [TINY],
    modes: ["stream"],
    runPlan: () => Promise.reject(new EchokitError("Nothing listens at 127.0.0.1:1")),
  });
  assert.equal(report.cells[0].skipped, "load failed: Nothing listens at 127.0.0.1:1");
});

Deno.test("runCompare() hands sweep levels and rates to the load generator", async () => {
  const seen: string[] = [];
  const report = await runCompare({
    plans: [{ ...TINY, threads: 10, loops: 10 }],
    modes: ["stream"],
    connections: [5, 2],
    rates: [100],
    runPlan: (input) => {
      seen.push(`${input.plan.threads}×${input.plan.loops}@${input.rate}`);
      return Promise.reject(new EchokitError("stop here"));
    },
  });
  assert.deepEqual(seen, ["2×50@100", "5×20@100"]);
  assert.deepEqual(report.scenarios.map((s) => s.id), ["tiny@c2@r100", "tiny@c5@r100"]);
});

Deno.test("runCompare() stops between runs when aborted and says so", async () => {
  const controller = new AbortController();
  controller.abort();
  const report = await runCompare({ plans: [TINY], modes: ["stream"], signal: controller.signal });
  assert.equal(report.runs.length, 0);
  assert.match(report.meta.notes.join("\n"), /interrupted after 0 of 1 runs/);
});

Deno.test({
  name: "runCompare() prespawns one blocking thread per plan thread and records their cost",
  ignore: Deno.build.os === "windows",
  async fn() {
    const report = await runCompare({ plans: [TINY], modes: ["blocking"] });
    const run = report.runs[0];
    assert.equal(run.skipped, undefined, run.skipped);
    assert.equal(run.result?.errors, 0);
    assert.equal(run.prespawn?.threads, TINY.threads);
    assert.ok(run.prespawn!.bytes / TINY.threads > 2 ** 20, `bytes=${run.prespawn!.bytes}`);
    assert.match(run.note ?? "", /prespawned 4 threads in .* per thread\), before the load/);
  },
});
