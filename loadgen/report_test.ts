import assert from "node:assert/strict";
import { EchokitError } from "../util/errors.ts";
import { assertUsageError } from "./_assert_usage.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import {
  formatJsonDocument,
  formatMicros,
  formatReport,
  LOAD_RESULT_SCHEMA,
  LOAD_RESULT_VERSION,
  parseJsonDocument,
  toJsonDocument,
} from "./report.ts";
import type { LoadResult } from "./types.ts";

const START = Date.UTC(2024, 0, 1, 12, 0, 0);

/** A hand-made result: plan2 against the nonblocking server, 3 errors. */
const RESULT: LoadResult = {
  plan: BUILTIN_PLANS.plan2,
  target: { hostname: "127.0.0.1", port: 7000, mode: "nonblocking", pid: 4242 },
  startTime: START,
  endTime: START + 156_437,
  samples: 2_000_000,
  errors: 3,
  errorsByKind: { reset: 1, timeout: 2 },
  rate: 2_000_000 / 156_437 * 1000,
  latency: {
    count: 2_000_000,
    avgMs: 7,
    minMs: 0,
    maxMs: 120,
    meanUs: 7_412.6,
    p50Us: 6_950,
    p90Us: 9_120,
    p95Us: 10_240,
    p99Us: 14_900,
    p999Us: 31_050,
  },
  fairness: { min: 19_870, p5: 19_950, median: 20_000, p95: 20_000, max: 20_000 },
  server: {
    cpuPercentMean: 97.34,
    cpuUsPerSample: 76.1,
    peakRssBytes: 35_756_442,
    peakVszBytes: 1_261_827_891,
    series: [],
  },
  generator: {
    cpuPercentMean: 143.25,
    cpuUsPerSample: 112.04,
    peakRssBytes: 200 * 1024 * 1024,
    peakVszBytes: 3 * 1024 * 1024 * 1024,
    series: [{ time: START + 1000, cpuPercent: 140, rssBytes: 1, vszBytes: 2 }],
  },
  intervals: [],
  interrupted: false,
};

Deno.test("formatReport() renders the golden table for a hand-made result", () => {
  assert.equal(
    formatReport(RESULT),
    [
      "echokit load: plan2 (100 threads × 20000 loops, ramp-up 1 s) → 127.0.0.1:7000 (nonblocking, pid 4242)",
      "summary = 2000000 in 00:02:36 = 12784.7/s Avg:     7 Min:     0 Max:   120 Err:     3 (0.00%)",
      "",
      "Latency    p50 6.95 ms  p90 9.12 ms  p95 10.2 ms  p99 14.9 ms  p99.9 31.1 ms  (mean 7.41 ms, max 120 ms)",
      "Errors     3 of 2000000 (0.00%): timeout 2, reset 1",
      "Fairness   samples per connection: min 19870  p5 19950  median 20000  p95 20000  max 20000",
      "Server     CPU 97.3% of one core, 76.1 µs/sample; peak RSS 34.1 MiB, VSZ 1203.4 MiB",
      "Generator  CPU 143.3% of one core, 112.0 µs/sample",
    ].join("\n"),
  );
});

Deno.test("formatReport() prints n/a for what was not measured, and the extras when present", () => {
  const text = formatReport({
    ...RESULT,
    target: { hostname: "10.0.0.5", port: 9 },
    plan: { ...BUILTIN_PLANS.plan1, loops: -1, duration: 30 },
    server: undefined,
    generator: { ...RESULT.generator, cpuPercentMean: NaN, cpuUsPerSample: NaN },
    errors: 0,
    errorsByKind: {},
    latency: { ...RESULT.latency, p999Us: NaN, p50Us: 850 },
    warmup: { seconds: 5, samples: 1000, errors: 1 },
    openModel: { requestedRate: 5000, achievedRate: 4987.25 },
    interrupted: true,
  }).split("\n");
  assert.equal(
    text[0],
    "echokit load: plan1 (1000 threads × ∞ loops for up to 30 s, ramp-up 1 s) → 10.0.0.5:9 [interrupted]",
  );
  assert.match(text[3], /^Latency {4}p50 850 µs .* p99\.9 n\/a /);
  assert.equal(text[4], "Errors     0 of 2000000 (0.00%): none");
  assert.equal(text[6], "Server     n/a (not sampled)");
  assert.equal(text[7], "Generator  CPU n/a of one core, n/a µs/sample");
  assert.equal(text[8], "Warm-up    first 5 s excluded: 1000 samples, 1 errors");
  assert.equal(text[9], "Open model requested 5000.0/s, achieved 4987.3/s");
});

Deno.test("formatMicros() picks a unit and keeps 3 significant digits", () => {
  assert.equal(formatMicros(0), "0 µs");
  assert.equal(formatMicros(999.4), "999 µs");
  assert.equal(formatMicros(1000), "1.00 ms");
  assert.equal(formatMicros(123_456), "123 ms");
  assert.equal(formatMicros(1_500_000), "1.50 s");
  assert.equal(formatMicros(undefined), "n/a");
  assert.equal(formatMicros(Infinity), "n/a");
});

Deno.test("toJsonDocument() carries schema, version, the summary line and JSON-safe numbers", () => {
  const doc = toJsonDocument({
    ...RESULT,
    generator: { ...RESULT.generator, cpuUsPerSample: NaN },
  });
  assert.equal(doc.schema, LOAD_RESULT_SCHEMA);
  assert.equal(doc.schemaVersion, LOAD_RESULT_VERSION);
  assert.match(doc.echokit, /^\d+\.\d+\.\d+/);
  assert.equal(doc.summary, formatReport(RESULT).split("\n")[1]);
  assert.equal(doc.generator.cpuUsPerSample, null);
  assert.equal(doc.samples, 2_000_000);
  assert.ok(!("warmup" in doc));
  const text = formatJsonDocument(RESULT);
  assert.ok(text.endsWith("}\n"));
  const parsed = JSON.parse(text);
  assert.deepEqual(Object.keys(parsed).slice(0, 5), [
    "schema",
    "schemaVersion",
    "echokit",
    "summary",
    "plan",
  ]);
  assert.deepEqual(parsed.plan, RESULT.plan);
  assert.deepEqual(parsed.errorsByKind, { reset: 1, timeout: 2 });
});

Deno.test("parseJsonDocument() reads formatJsonDocument()'s text back, NaN included", () => {
  const result = { ...RESULT, generator: { ...RESULT.generator, cpuUsPerSample: NaN } };
  assert.deepEqual(parseJsonDocument(formatJsonDocument(result), "r.json"), result);
});

Deno.test("parseJsonDocument() still reads the legacy tag (echokit.load-result, version 1)", () => {
  const { schema: _s, schemaVersion: _v, ...rest } = JSON.parse(formatJsonDocument(RESULT));
  const legacy = JSON.stringify({ schema: "echokit.load-result", version: 1, ...rest });
  assert.deepEqual(
    parseJsonDocument(legacy, "old.json"),
    parseJsonDocument(formatJsonDocument(RESULT), "new.json"),
  );
  assert.throws(
    () =>
      parseJsonDocument(
        JSON.stringify({ schema: "echokit.load-result", version: 2, ...rest }),
        "old.json",
      ),
    /version "2" of echokit\/load-result is not 1/,
  );
});

Deno.test("parseJsonDocument() rejects what is not a load-result document, naming the source", () => {
  const doc = JSON.parse(formatJsonDocument(RESULT));
  const cases: [string, RegExp][] = [
    ["{", /^Cannot read "r\.json": not JSON/],
    ["[]", /^Cannot read "r\.json": schema "undefined" is not "echokit\/load-result"/],
    [
      JSON.stringify({ ...doc, schemaVersion: 99 }),
      /^Cannot read "r\.json": version "99" of echokit\/load-result is not 1/,
    ],
    [
      JSON.stringify({ ...doc, latency: { ...doc.latency, p99Us: "fast" } }),
      /^Cannot read "r\.json": field "latency\.p99Us" is missing or of the wrong type/,
    ],
    [JSON.stringify({ ...doc, plan: undefined }), /field "plan" is missing/],
  ];
  for (const [text, message] of cases) {
    assertUsageError(() => parseJsonDocument(text, "r.json"), message);
  }
});

Deno.test("writeFileAtomic() replaces a file and leaves no temporary files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/result.json`;
    await Deno.writeTextFile(path, "old");
    await writeFileAtomic(path, "new ✓\n");
    assert.equal(await Deno.readTextFile(path), "new ✓\n");
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["result.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() names the flag the path came from, once", async () => {
  await assert.rejects(
    writeFileAtomic("/nonexistent-dir-echokit/r.json", "x", { what: "--json" }),
    (err: unknown) => {
      assert.ok(err instanceof EchokitError);
      assert.equal(
        err.message,
        'Cannot write --json "/nonexistent-dir-echokit/r.json": the directory does not exist',
      );
      return true;
    },
  );
});

Deno.test("writeFileAtomic() fails with an EchokitError naming the path", async () => {
  await assert.rejects(
    writeFileAtomic("/nonexistent-dir-echokit/r.json", "x"),
    (err: unknown) => {
      assert.ok(err instanceof EchokitError);
      assert.equal(
        err.message,
        'Cannot write "/nonexistent-dir-echokit/r.json": the directory does not exist',
      );
      return true;
    },
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/taken`);
    await assert.rejects(
      writeFileAtomic(`${dir}/taken`, "x"),
      /^EchokitError: Cannot write ".*taken": /,
    );
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["taken"]); // the temporary file was removed
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
