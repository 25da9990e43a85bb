import assert from "node:assert/strict";
import { emptyStats } from "./types.ts";
import { formatStatsInterval, startStatsInterval } from "./stats_interval.ts";
import type { ServerStats } from "./types.ts";

const ZERO: ServerStats = emptyStats();

Deno.test("formatStatsInterval() prints one key=value line with CPU, memory and counters", () => {
  const line = formatStatsInterval({
    time: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
    elapsedMs: 1000,
    cpuPercent: 12.345,
    rssBytes: 34.1 * 1024 * 1024,
    vszBytes: 1200 * 1024 * 1024,
    stats: { ...ZERO, accepted: 5, active: 2, closed: 3, bytesIn: 640, bytesOut: 640, threads: 4 },
  });
  assert.equal(
    line,
    "stats-interval time=2025-01-02T03:04:05.678Z cpu=12.3% rss=34.1MiB vsz=1200.0MiB " +
      "accepted=5 active=2 closed=3 bytesIn=640 bytesOut=640 errors=0 rejected=0 timedOut=0 threads=4",
  );
});

Deno.test("formatStatsInterval() says n/a for a virtual size it could not read", () => {
  const line = formatStatsInterval({
    time: 0,
    elapsedMs: 1,
    cpuPercent: 0,
    rssBytes: 1024 * 1024,
    vszBytes: null,
    stats: ZERO,
  });
  assert.match(line, / rss=1\.0MiB vsz=n\/a accepted=0 /);
});

Deno.test("startStatsInterval() samples on its interval and once more at stop", async () => {
  let accepted = 0;
  const seen: number[] = [];
  const monitor = startStatsInterval({
    intervalMs: 50,
    stats: () => ({ ...ZERO, accepted: ++accepted }),
    onSample: (s) => seen.push(s.stats.accepted),
  });
  await new Promise((r) => setTimeout(r, 400));
  const samples = monitor.stop();
  assert.ok(seen.length >= 2, `only ${seen.length} samples in 400 ms at 50 ms`);
  assert.equal(samples.length, seen.length + 1);
  assert.deepEqual(samples.map((s) => s.stats.accepted), [...seen, seen.length + 1]);
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i].time >= samples[i - 1].time);
  assert.deepEqual(monitor.stop(), samples, "a second stop() adds nothing");
});

Deno.test("startStatsInterval() counts this process's CPU time and memory", () => {
  const monitor = startStatsInterval({ intervalMs: 10_000, stats: () => ZERO });
  const end = performance.now() + 300;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  const [sample] = monitor.stop();
  assert.ok(x > 0);
  assert.ok(sample.elapsedMs >= 300);
  assert.ok(sample.cpuPercent > 0, `cpu ${sample.cpuPercent}% after 300 ms of busy loop`);
  assert.ok(sample.rssBytes > 0);
  if (Deno.build.os === "linux") assert.ok(sample.vszBytes! >= sample.rssBytes);
});
