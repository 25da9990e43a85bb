import assert from "node:assert/strict";
import { aggregate, median, spreadPercent, stat } from "./aggregate.ts";
import { fakeReport, fakeResult } from "./_test_fixtures.ts";
import type { RunRecord, Scenario, ServerColumn } from "./types.ts";

const scenarios: Scenario[] = [
  { id: "p", plan: "p", connections: 10, loops: 10, label: "p" },
];
const servers: ServerColumn[] = [{ name: "a", kind: "mode" }, { name: "b", kind: "mode" }];

function run(server: string, repeat: number, samples: number, elapsedMs: number): RunRecord {
  return {
    server,
    scenario: "p",
    repeat,
    result: fakeResult({ samples, elapsedMs }),
    wallMs: elapsedMs,
  };
}

Deno.test("median() takes the middle value of an odd count and the mean of the middle two", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("stat() ignores undefined and NaN and reports min, max and count", () => {
  assert.deepEqual(stat([3, undefined, 1, NaN, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.equal(stat([undefined]), undefined);
});

Deno.test("spreadPercent() is half the min–max range over the median, 0 for one run", () => {
  assert.equal(spreadPercent({ median: 200, min: 180, max: 220, n: 3 }), 10);
  assert.equal(spreadPercent({ median: 200, min: 200, max: 200, n: 1 }), 0);
});

Deno.test("aggregate() gives medians over repeats and ratios against the fastest", () => {
  const cells = aggregate([
    run("a", 0, 1000, 1000), // 1000/s
    run("a", 1, 1000, 500), // 2000/s
    run("a", 2, 1000, 400), // 2500/s
    run("b", 0, 1000, 250), // 4000/s
  ], { scenarios, servers });
  const [a, b] = cells;
  assert.deepEqual(a.rate, { median: 2000, min: 1000, max: 2500, n: 3 });
  assert.equal(a.ratio, 0.5);
  assert.equal(b.ratio, 1);
  // The headline line is the median-rate run's own figures, not a mix.
  assert.equal(a.headline?.elapsedMs, 500);
  assert.equal(a.headline?.count, 1000);
});

Deno.test("aggregate() takes ratios against the baseline when given", () => {
  const cells = aggregate([run("a", 0, 1000, 1000), run("b", 0, 1000, 250)], {
    scenarios,
    servers,
  }, { baseline: "a" });
  assert.equal(cells[0].ratio, 1);
  assert.equal(cells[1].ratio, 4);
});

Deno.test("aggregate() turns a server with no results into a skipped cell with the reason", () => {
  const cells = aggregate([
    run("a", 0, 1000, 1000),
    { server: "b", scenario: "p", repeat: 0, skipped: "python3 not found on PATH", wallMs: 0 },
  ], { scenarios, servers });
  assert.equal(cells[1].skipped, "python3 not found on PATH");
  assert.equal(cells[1].rate, undefined);
  assert.equal(cells[1].ratio, undefined);
  assert.equal(cells[0].ratio, 1);
});

Deno.test("aggregate() computes error %, CPU per message and syscalls per message", () => {
  const report = fakeReport();
  const py = report.cells.find((c) => c.server === "py-streams" && c.scenario === "plan1")!;
  assert.equal(py.errorPercent?.median, 0.0025);
  // 50% of a core for 40 s = 20 s CPU over 1e6 samples = 20 µs each.
  assert.equal(py.cpuUsPerMessage?.median, 20);
  const withSyscalls = aggregate([{ ...run("a", 0, 1000, 1000), syscalls: 2500 }], {
    scenarios,
    servers,
  });
  assert.equal(withSyscalls[0].syscallsPerMessage?.median, 2.5);
  assert.equal(withSyscalls[1].syscallsPerMessage, undefined);
});
