import assert from "node:assert/strict";
import { type SampleBatch, Summariser } from "./summariser.ts";
import type { ThreadCounts } from "./summary_line.ts";

const THREADS: ThreadCounts = { active: 100, started: 100, finished: 0 };

// --- Summariser: the schedule ------------------------------------------------

/** 2024-01-01T00:00:00Z: a multiple of 30 s, so seconds past it are `now % 30`. */
const T0 = Date.UTC(2024, 0, 1);
const sec = (s: number) => T0 + s * 1000;

function batch(count: number, lastEndTime?: number, errors = 0): SampleBatch {
  return { count, errors, sumElapsedMs: count * 10, minMs: 5, maxMs: 20, lastEndTime };
}

function makeSummariser(startSec: number, intervalSeconds?: number) {
  const threads: ThreadCounts = { active: 3, started: 3, finished: 0 };
  const summariser = new Summariser({
    startTime: sec(startSec),
    intervalSeconds,
    threadCounts: () => ({ ...threads }),
    clock: () => {
      throw new Error("tests pass explicit times");
    },
  });
  return { summariser, threads };
}

Deno.test("Summariser reports first at the interval boundary, with no = line", () => {
  const { summariser } = makeSummariser(7);
  for (let s = 8; s < 30; s++) assert.equal(summariser.add(batch(10), sec(s)), undefined, `${s}`);
  const report = summariser.add(batch(10, sec(30) - 100), sec(30))!;
  assert.deepEqual(report.lines, [
    "summary +    230 in 00:00:23 =   10.0/s Avg:    10 Min:     5 Max:    20 Err:     0 (0.00%) Active: 3 Started: 3 Finished: 0",
  ]);
  assert.equal(report.total, undefined);
  assert.deepEqual(report.interval, {
    time: sec(30) - 100,
    count: 230,
    errors: 0,
    elapsedMs: 22900,
    rate: 230 / 22900 * 1000,
    avgMs: 10,
    active: 3,
    started: 3,
    finished: 0,
  });
});

Deno.test("Summariser reports inside the 5 s window after a boundary, not after it", () => {
  const late = makeSummariser(1);
  assert.equal(late.summariser.add(batch(1), sec(36)), undefined); // 36 % 30 = 6
  assert.equal(late.summariser.add(batch(1), sec(59) + 999), undefined);
  assert.ok(late.summariser.add(batch(1), sec(65) + 999)); // 65 % 30 = 5: still in the window
  const edge = makeSummariser(1);
  assert.ok(edge.summariser.add(batch(1), sec(35) + 999));
});

Deno.test("Summariser reports once per window and then every interval with + and =", () => {
  const { summariser } = makeSummariser(0);
  const r1 = summariser.add(batch(5), sec(6))!; // first: 6 > 0 + 5 but 6 % 30 > 5
  assert.equal(r1, undefined);
  const first = summariser.add(batch(5), sec(30))!;
  assert.equal(first.lines.length, 1);
  // Same window: now > last + 5 fails.
  for (const s of [31, 33, 35]) assert.equal(summariser.add(batch(5), sec(s)), undefined);
  const second = summariser.add(batch(5, sec(60) - 500), sec(60))!;
  assert.equal(second.lines.length, 2);
  assert.match(second.lines[0], /^summary \+ {5}20 in 00:00:30 = {4}0\.7\/s /); // 30 → 59.5 s
  assert.match(second.lines[1], /^summary = {5}30 in 00:01:00 = {4}0\.5\/s .*\(0\.00%\)$/);
  assert.deepEqual(second.total && [second.total.count, second.total.elapsedMs], [30, 60000]);
});

Deno.test("Summariser needs arriving samples to report", () => {
  const { summariser } = makeSummariser(0);
  assert.equal(summariser.add(batch(0), sec(30)), undefined); // an empty batch is not a sample
  assert.equal(summariser.add(batch(0), sec(31)), undefined);
  // The boundary passed without samples: nothing until the next window.
  assert.equal(summariser.add(batch(4), sec(40)), undefined);
  const report = summariser.add(batch(4), sec(61))!;
  assert.match(report.lines[0], /^summary \+ {6}8 in 00:01:01 /);
});

Deno.test("Summariser reports the first sample at once when the test starts inside a window", () => {
  // As in the fixture's "summary +      1 in 00:00:00 =   23.8/s … Active: 2" lines.
  const { summariser } = makeSummariser(2);
  const report = summariser.add(batch(1, sec(2) + 42), sec(2) + 42)!;
  assert.match(report.lines[0], /^summary \+ {6}1 in 00:00:00 = {3}23\.8\/s /);
  assert.equal(report.lines.length, 1);
  assert.equal(summariser.add(batch(1), sec(7)), undefined); // 7 > 2 + 5 but 7 % 30 > 5
});

Deno.test("Summariser honours a configured interval", () => {
  const { summariser } = makeSummariser(0, 10);
  const reported: number[] = [];
  for (let s = 1; s <= 40; s++) if (summariser.add(batch(1), sec(s))) reported.push(s);
  // The first sample already falls in a window (1 % 10 <= 5): JMeter reports at once.
  assert.deepEqual(reported, [1, 10, 20, 30, 40]);
  assert.throws(() => makeSummariser(0, 0), /Invalid summary interval "0"/);
});

Deno.test("Summariser.end() of a test shorter than the first boundary prints one = line", () => {
  const { summariser } = makeSummariser(2);
  summariser.add(batch(33307, sec(12), 846), sec(12));
  const end = summariser.end(sec(12) + 20);
  assert.deepEqual(end.lines, [
    "summary =  33307 in 00:00:10 = 3324.1/s Avg:    10 Min:     5 Max:    20 Err:   846 (2.54%)",
  ]);
  assert.equal(end.interval, undefined);
  assert.equal(end.total.elapsedMs, 10020);
});

Deno.test("Summariser.end() prints a final + line when samples followed a report", () => {
  const { summariser, threads } = makeSummariser(0);
  summariser.add(batch(100), sec(30));
  summariser.add(batch(50, sec(40)), sec(40));
  Object.assign(threads, { active: 0, started: 3, finished: 3 });
  const end = summariser.end(sec(45));
  assert.equal(end.lines.length, 2);
  // The final delta runs to the end of the test (JMeter's setEndTime()).
  assert.equal(
    end.lines[0],
    "summary +     50 in 00:00:15 =    3.3/s Avg:    10 Min:     5 Max:    20 Err:     0 (0.00%) Active: 0 Started: 3 Finished: 3",
  );
  assert.equal(
    end.lines[1],
    "summary =    150 in 00:00:45 =    3.3/s Avg:    10 Min:     5 Max:    20 Err:     0 (0.00%)",
  );
  assert.equal(end.interval?.finished, 3);
});

Deno.test("Summariser.end() prints only = when nothing followed the last report", () => {
  const { summariser } = makeSummariser(0);
  summariser.add(batch(100), sec(30));
  const end = summariser.end(sec(31));
  assert.equal(end.lines.length, 1);
  assert.match(end.lines[0], /^summary = {4}100 in 00:00:31 /);
  assert.throws(() => summariser.end(sec(32)));
  assert.throws(() => summariser.add(batch(1), sec(32)));
});

Deno.test("Summariser.end() of an empty test prints JMeter's empty = line", () => {
  const { summariser } = makeSummariser(0);
  const end = summariser.end(sec(3));
  assert.deepEqual(end.lines, [
    "summary =      0 in 00:00:00 = ******/s Avg:     0 Min: 9223372036854775807 Max: -9223372036854775808 Err:     0 (0.00%)",
  ]);
  assert.equal(end.total.count, 0);
});

Deno.test("Summariser keeps a delta's span from going negative for late batches", () => {
  const { summariser } = makeSummariser(0);
  summariser.add(batch(10), sec(30));
  // Another worker's batch arrives after the report with samples that ended before it.
  summariser.add(batch(10, sec(29)), sec(30) + 200);
  const end = summariser.end(sec(30) + 200);
  assert.match(end.lines[0], /^summary \+ {5}10 in 00:00:00 = {3}50\.0\/s /);
});

Deno.test("Summariser merges batch min/max/sums like per-sample adds", () => {
  const { summariser } = makeSummariser(0);
  summariser.add({ count: 2, errors: 1, sumElapsedMs: 3, minMs: 1, maxMs: 2 }, sec(1));
  summariser.add({ count: 3, errors: 0, sumElapsedMs: 300, minMs: 50, maxMs: 150 }, sec(2));
  const total = summariser.end(sec(2)).total;
  assert.deepEqual(
    [total.count, total.errors, total.minMs, total.maxMs, total.avgMs],
    [5, 1, 1, 150, 60],
  );
});

Deno.test("Summariser passes each line's span to the resources provider", () => {
  const spans: string[] = [];
  const summariser = new Summariser({
    startTime: sec(0),
    threadCounts: () => THREADS,
    resources: (span) => {
      spans.push(`${span.type} ${span.startTime - T0}-${span.endTime - T0}`);
      return span.type === "+"
        ? {
          server: { time: span.endTime, cpuPercent: 12.34, rssBytes: 2 ** 21, vszBytes: 2 ** 30 },
        }
        : {};
    },
  });
  const report = summariser.add(batch(1, sec(29)), sec(30))!;
  assert.match(
    report.lines[0],
    / \| server CPU 12\.3% RSS 2\.0MiB VSZ 1024\.0MiB \| gen CPU n\/a$/,
  );
  assert.equal(report.interval?.server?.cpuPercent, 12.34);
  const end = summariser.end(sec(40));
  assert.match(end.lines[0], / \| server CPU n\/a RSS n\/a VSZ n\/a \| gen CPU n\/a$/);
  assert.deepEqual(spans, ["+ 0-29000", "= 0-40000"]);
});
