/**
 * Hand-made results for the aggregation and rendering tests. Private to
 * `compare/` tests: every figure is chosen so the expected output can be
 * worked out by hand.
 *
 * @module
 */
import type { LoadResult } from "../loadgen/types.ts";
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import { aggregate } from "./aggregate.ts";
import type { CompareReport, RunRecord, Scenario, ServerColumn } from "./types.ts";

/** Figures a fake result is built from. */
export interface FakeFigures {
  samples: number;
  elapsedMs: number;
  errors?: number;
  avgMs?: number;
  p50Us?: number;
  p99Us?: number;
  cpuPercent?: number;
  rssBytes?: number;
  vszBytes?: number;
  fairP5?: number;
  fairP95?: number;
}

/** A LoadResult with the given figures; everything else plausible and fixed. */
export function fakeResult(f: FakeFigures): LoadResult {
  const startTime = 1_700_000_000_000;
  const cpuPercent = f.cpuPercent ?? 50;
  const cpuUs = (cpuPercent / 100) * f.elapsedMs * 1000;
  return {
    plan: { ...BUILTIN_PLANS.plan2, loops: 10 },
    target: { hostname: "127.0.0.1", port: 7000 },
    startTime,
    endTime: startTime + f.elapsedMs,
    samples: f.samples,
    errors: f.errors ?? 0,
    errorsByKind: f.errors ? { timeout: f.errors } : {},
    rate: (f.samples / f.elapsedMs) * 1000,
    latency: {
      count: f.samples,
      avgMs: f.avgMs ?? 1,
      minMs: 0,
      maxMs: 40,
      meanUs: 1000,
      p50Us: f.p50Us ?? 800,
      p90Us: 2000,
      p95Us: 3000,
      p99Us: f.p99Us ?? 5000,
      p999Us: 9000,
    },
    fairness: { min: 1, p5: f.fairP5 ?? 90, median: 100, p95: f.fairP95 ?? 110, max: 120 },
    server: {
      cpuPercentMean: cpuPercent,
      cpuUsPerSample: f.samples > 0 ? cpuUs / f.samples : 0,
      peakRssBytes: f.rssBytes ?? 64 * 2 ** 20,
      peakVszBytes: f.vszBytes ?? 1024 * 2 ** 20,
      series: [],
    },
    generator: {
      cpuPercentMean: 90,
      cpuUsPerSample: 5,
      peakRssBytes: 80 * 2 ** 20,
      peakVszBytes: 2048 * 2 ** 20,
      series: [],
    },
    intervals: [],
    interrupted: false,
  };
}

/** Two plans × three servers; `blocking` skipped, `stream` run three times on plan2. */
export function fakeReport(): CompareReport {
  const scenarios: Scenario[] = [
    { id: "plan1", plan: "plan1", connections: 1000, loops: 1000, label: "plan1" },
    { id: "plan2", plan: "plan2", connections: 100, loops: 10000, label: "plan2" },
  ];
  const servers: ServerColumn[] = [
    { name: "stream", kind: "mode" },
    { name: "blocking", kind: "mode" },
    { name: "py-streams", kind: "peer", command: ["python3", "x.py", "{port}"] },
  ];
  const run = (server: string, scenario: string, repeat: number, f: FakeFigures): RunRecord => ({
    server,
    scenario,
    repeat,
    result: fakeResult(f),
    wallMs: f.elapsedMs + 1000,
  });
  const runs: RunRecord[] = [
    run("stream", "plan1", 0, { samples: 1_000_000, elapsedMs: 20_000, avgMs: 19, p99Us: 80_000 }),
    {
      server: "blocking",
      scenario: "plan1",
      repeat: 0,
      skipped: 'Mode "blocking" is not built yet',
      wallMs: 300,
    },
    run("py-streams", "plan1", 0, {
      samples: 1_000_000,
      elapsedMs: 40_000,
      errors: 25,
      avgMs: 39,
      p99Us: 150_000,
    }),
    run("stream", "plan2", 0, { samples: 1_000_000, elapsedMs: 10_000, p99Us: 4000 }),
    run("stream", "plan2", 1, { samples: 1_000_000, elapsedMs: 12_500, p99Us: 5000 }),
    run("stream", "plan2", 2, { samples: 1_000_000, elapsedMs: 11_000, p99Us: 4500 }),
    {
      server: "blocking",
      scenario: "plan2",
      repeat: 0,
      skipped: 'Mode "blocking" is not built yet',
      wallMs: 300,
    },
    {
      ...run("py-streams", "plan2", 0, { samples: 1_000_000, elapsedMs: 25_000, p99Us: 9000 }),
      note: "memory guard: capped",
    },
  ];
  return {
    meta: {
      tool: "echokit compare",
      scale: 0.5,
      repeat: 3,
      startedAt: 1_700_000_000_000,
      durationMs: 185_000,
      cpus: 2,
      memTotalBytes: 24 * 2 ** 30,
      platform: "linux x86_64",
      deno: "2.9.6",
      command: "echokit compare --repeat 3 --peer py-streams",
      notes: ["open-file limit 20000 (hard 20000)"],
    },
    scenarios,
    servers,
    cells: aggregate(runs, { scenarios, servers }),
    runs,
  };
}
