import assert from "node:assert/strict";
import { histogramFigures, loadLatencyHistogram } from "../loadgen/histogram.ts";
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import type { LoadResult } from "../loadgen/types.ts";
import type { ServerStatsSeries } from "../servers/stats_interval.ts";
import type { ServerStats } from "../servers/types.ts";
import { mergeLoadResults, mergeReport } from "./merge.ts";
import type { LoadInput } from "./types.ts";
import { renderTable } from "./render_table.ts";

const LatencyHistogram = await loadLatencyHistogram();
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

/** A host's result whose latencies are `latenciesUs`, one sample each, over 10 s from `start`. */
function host(label: string, latenciesUs: number[], start = T0): LoadInput {
  const h = new LatencyHistogram();
  for (const us of latenciesUs) h.record(us);
  const ms = latenciesUs.map((us) => Math.floor(us / 1000));
  const result: LoadResult = {
    plan: { ...BUILTIN_PLANS.plan2, threads: 2, loops: 50 },
    target: { hostname: "10.0.0.9", port: 7000 },
    startTime: start,
    endTime: start + 10_000,
    samples: latenciesUs.length,
    errors: 1,
    errorsByKind: { timeout: 1 },
    rate: latenciesUs.length / 10,
    latency: {
      count: latenciesUs.length,
      avgMs: Math.trunc(ms.reduce((a, b) => a + b, 0) / ms.length),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      ...histogramFigures(h),
      sumElapsedMs: ms.reduce((a, b) => a + b, 0),
    },
    fairness: { min: 3, p5: 3, median: 4, p95: 5, max: 5, window: "steady" },
    generator: {
      cpuPercentMean: 40,
      cpuUsPerSample: 10,
      peakRssBytes: 100,
      peakVszBytes: 200,
      series: [],
    },
    intervals: [],
    interrupted: false,
  };
  return { label, source: `${label}.json`, result };
}

function series(samples: { time: number; elapsedMs: number; cpuPercent: number }[]) {
  const doc: ServerStatsSeries = {
    schema: "echokit/serve-stats",
    schemaVersion: 1,
    mode: "stream",
    addr: { hostname: "0.0.0.0", port: 7000 },
    pid: 99,
    hostname: "server1",
    intervalMs: 5000,
    startTime: samples[0].time - samples[0].elapsedMs,
    endTime: samples[samples.length - 1].time,
    samples: samples.map((s, i) => ({
      ...s,
      rssBytes: (i + 1) * 1_000_000,
      vszBytes: null,
      // Counters are not read by the merge.
      stats: {} as ServerStats,
    })),
  };
  return { source: "serve.json", series: doc };
}

Deno.test("mergeLoadResults() takes percentiles from the merged histogram, not their average", async () => {
  // One fast host, one slow host: averaging their p50s would give ~5 ms.
  const fast = host("a", Array.from({ length: 100 }, (_, i) => 100 + i));
  const slow = host("b", Array.from({ length: 50 }, (_, i) => 10_000 + i * 10));
  const { result } = await mergeLoadResults([fast, slow]);
  assert.equal(result.samples, 150);
  assert.equal(result.errors, 2);
  assert.deepEqual(result.errorsByKind, { timeout: 2 });
  assert.equal(result.rate, 15);
  assert.equal(result.plan.threads, 4);
  assert.ok(result.latency.p50Us < 200, `p50 ${result.latency.p50Us}`);
  assert.ok(result.latency.p90Us > 10_000, `p90 ${result.latency.p90Us}`);
  // JMeter Avg from the summed whole-ms elapsed times: (100 × 0 ms + 50 × 10 ms) / 150.
  assert.equal(result.latency.avgMs, 3);
  assert.equal(result.latency.minMs, 0);
  assert.equal(result.latency.maxMs, 10);
  assert.deepEqual(
    [result.fairness.min, result.fairness.max, Number.isNaN(result.fairness.p5)],
    [3, 5, true],
  );
  // Two machines' generators: CPU adds up.
  assert.equal(result.generator.cpuPercentMean, 80);
});

Deno.test("mergeLoadResults() spans the union and notes runs that did not overlap", async () => {
  const a = host("a", [100, 200]);
  const b = host("b", [100, 200], T0 + 60_000);
  const { result, notes } = await mergeLoadResults([a, b]);
  assert.equal(result.startTime, T0);
  assert.equal(result.endTime, T0 + 70_000);
  assert.ok(notes.some((n) => n.includes("do not overlap")), notes.join("\n"));
});

Deno.test("mergeLoadResults() weighs each server interval by its overlap with the load", async () => {
  const a = host("a", [100, 200, 300, 400]);
  // The load runs T0..T0+10 s. Intervals: 5 s before (ignored), then 0–5 s at
  // 100%, 5–15 s at 20% (half inside). Mean = (5 s × 100% + 5 s × 20%) / 10 s.
  const stats = series([
    { time: T0, elapsedMs: 5000, cpuPercent: 900 },
    { time: T0 + 5000, elapsedMs: 5000, cpuPercent: 100 },
    { time: T0 + 15_000, elapsedMs: 10_000, cpuPercent: 20 },
  ]);
  const { result, notes } = await mergeLoadResults([a], { serverStats: stats });
  assert.equal(result.server!.cpuPercentMean, 60);
  // 6 CPU-seconds over 4 samples.
  assert.equal(result.server!.cpuUsPerSample, 6e6 / 4);
  assert.equal(result.server!.peakRssBytes, 3_000_000);
  assert.ok(Number.isNaN(result.server!.peakVszBytes));
  assert.equal(result.server!.series.length, 2);
  assert.match(
    notes.join("\n"),
    /server CPU\/RSS from "serve\.json" \(server1 pid 99, 2 intervals/,
  );
});

Deno.test("mergeReport() gives each host its share of the merged rate and renders as a table", async () => {
  const report = await mergeReport([host("a", [100, 200, 300]), host("a", [100, 200, 300])]);
  assert.deepEqual(report.servers.map((s) => s.name), ["a", "a#2", "merged"]);
  assert.deepEqual(report.cells.map((c) => c.ratio), [0.5, 0.5, 1]);
  const text = renderTable(report);
  assert.match(text, /note: merged: summary = +6 in 00:00:10 = +0\.6\/s/);
  // Fairness percentiles over all connections are not known: "–", never a guess.
  assert.match(text, /^merged +1 +1\.00× +0\.20 +0\.30 +33\.33 +– +– +\d+ +– +– +– +–$/m);
  assert.match(text, /^a +0 +0\.50× .* 3\/5 +–$/m);
});

/** Segment `index` of `count` of a 10-thread plan, its share of the threads. */
function segment(index: number, count: number, over: Partial<LoadResult["segment"]> = {}) {
  const input = host(`seg-${index}`, [1000, 2000, 3000]);
  const threads = Math.ceil((10 - index) / count);
  input.result.plan = { ...input.result.plan, threads };
  input.result.segment = {
    index,
    count,
    planThreads: 10,
    planHash: "0123456789abcdef",
    startAt: T0,
    startedAt: T0 + index,
    ...over,
  };
  return input;
}

Deno.test("mergeLoadResults() of every segment gives the whole plan's threads and the start spread", async () => {
  const merged = await mergeLoadResults([segment(2, 3), segment(0, 3), segment(1, 3)]);
  assert.equal(merged.result.plan.threads, 10);
  assert.equal(merged.result.samples, 9);
  assert.deepEqual(merged.segments, {
    count: 3,
    present: [0, 1, 2],
    missing: [],
    duplicated: [],
    startSpreadMs: 2,
  });
  assert.ok(
    merged.notes.some((n) => /^3 segments of 3 .*start spread 2 ms$/.test(n)),
    merged.notes[0],
  );
});

Deno.test("mergeLoadResults() names missing and duplicated segments, exit 1, or merges them with partial", async () => {
  const inputs = [segment(0, 4), segment(2, 4), segment(2, 4)];
  await assert.rejects(
    () => mergeLoadResults(inputs),
    (err: Error & { exitCode?: number }) => {
      assert.equal(
        err.message,
        "Cannot merge: segments 1, 3 of 4 missing; segments 2 given more than once (give each segment's file once, or add --partial to merge anyway)",
      );
      assert.equal(err.exitCode, 1);
      return true;
    },
  );
  const merged = await mergeLoadResults(inputs, { partial: true });
  assert.deepEqual(merged.segments?.missing, [1, 3]);
  assert.ok(merged.notes.some((n) => n.startsWith("partial merge: segments 1, 3 of 4 missing")));
});

Deno.test("mergeLoadResults() refuses segments of other plans, other starts, or mixed with whole runs", async () => {
  const cases: [LoadInput[], RegExp][] = [
    [[segment(0, 2), segment(1, 3)], /"seg-1\.json" \(segment 1\/3\) split into 3 segments, not 2/],
    [
      [segment(0, 2), segment(1, 2, { planHash: "ffffffffffffffff" })],
      /ran plan ffffffffffffffff \(10 threads\), not 0123456789abcdef/,
    ],
    [
      [segment(0, 2), segment(1, 2, { startAt: T0 + 5000 })],
      /started at 2024-01-01T12:00:05\.000Z, not 2024-01-01T12:00:00\.000Z/,
    ],
    [[segment(0, 2), host("whole", [1000])], /: "whole\.json" is a whole run, "seg-0\.json"/],
  ];
  for (const [inputs, message] of cases) {
    await assert.rejects(() => mergeLoadResults(inputs), message);
  }
});
