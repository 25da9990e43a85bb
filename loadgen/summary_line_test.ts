import assert from "node:assert/strict";
import { formatHalfEven } from "./_decimal.ts";
import {
  formatResourceExtension,
  formatSummaryLine,
  parseSummaryLine,
  type SummaryLineInput,
  type ThreadCounts,
} from "./summary_line.ts";

const THREADS: ThreadCounts = { active: 100, started: 100, finished: 0 };

function line(overrides: Partial<SummaryLineInput>): string {
  return formatSummaryLine({
    type: "=",
    count: 1234,
    elapsedMs: 5000,
    sumElapsedMs: 1234 * 14,
    minMs: 0,
    maxMs: 45,
    errors: 0,
    ...overrides,
  });
}

// --- DecimalFormat HALF_EVEN -------------------------------------------------

Deno.test("formatHalfEven() rounds exact binary ties to even", () => {
  assert.equal(formatHalfEven(0.25, 1), "0.2");
  assert.equal(formatHalfEven(0.75, 1), "0.8");
  assert.equal(formatHalfEven(12.25, 1), "12.2");
  assert.equal(formatHalfEven(2.5, 0), "2");
  assert.equal(formatHalfEven(3.5, 0), "4");
  assert.equal(formatHalfEven(0.125, 2), "0.12"); // toFixed(2) says 0.13
  assert.equal(formatHalfEven(3.125, 2), "3.12");
  assert.equal(formatHalfEven(9.375, 2), "9.38");
});

Deno.test("formatHalfEven() rounds near-ties by the double's exact value", () => {
  // 0.35 is 0.34999999999999997…, 0.45 is 0.45000000000000001…, 0.135 is 0.13500000000000000888…
  assert.equal(formatHalfEven(0.35, 1), "0.3");
  assert.equal(formatHalfEven(0.45, 1), "0.5");
  assert.equal(formatHalfEven(0.135, 2), "0.14");
  assert.equal(formatHalfEven(1.005, 2), "1.00"); // 1.00499999999999989…
  assert.equal(formatHalfEven(0.8055, 3), "0.805"); // the JDK-7131459 example
});

Deno.test("formatHalfEven() pads to one integer digit and keeps large integers exact", () => {
  assert.equal(formatHalfEven(0, 1), "0.0");
  assert.equal(formatHalfEven(0.04, 1), "0.0");
  assert.equal(formatHalfEven(0.05, 1), "0.1"); // 0.05000000000000000277…
  assert.equal(formatHalfEven(123456789012, 1), "123456789012.0");
  assert.equal(formatHalfEven(2 ** 60, 1), "1152921504606846976.0");
  assert.equal(formatHalfEven(Number.MIN_VALUE, 2), "0.00");
});

// --- formatSummaryLine(): hand-computed cases --------------------------------

Deno.test("formatSummaryLine() reproduces the examples in jmeter.md", () => {
  assert.equal(
    line({ type: "+", threads: THREADS }),
    "summary +   1234 in 00:00:05 =  246.8/s Avg:    14 Min:     0 Max:    45 Err:     0 (0.00%) Active: 100 Started: 100 Finished: 0",
  );
  assert.equal(
    line({ count: 151488, elapsedMs: 28000, sumElapsedMs: 151488 * 14, errors: 3 }),
    "summary = 151488 in 00:00:28 = 5410.3/s Avg:    14 Min:     0 Max:    45 Err:     3 (0.00%)",
  );
});

Deno.test("formatSummaryLine() right-aligns count 6, rate 6, Avg/Min/Max/Err 5 and never truncates", () => {
  assert.equal(
    line({ count: 1, elapsedMs: 1000, sumElapsedMs: 7, minMs: 7, maxMs: 7 }),
    "summary =      1 in 00:00:01 =    1.0/s Avg:     7 Min:     7 Max:     7 Err:     0 (0.00%)",
  );
  assert.equal(
    line({
      count: 12345678,
      elapsedMs: 1000,
      sumElapsedMs: 12345678 * 123456,
      minMs: 100000,
      maxMs: 1234567,
      errors: 1234567,
    }),
    "summary = 12345678 in 00:00:01 = 12345678.0/s Avg: 123456 Min: 100000 Max: 1234567 Err: 1234567 (10.00%)",
  );
});

Deno.test("formatSummaryLine() prints ****** when elapsed is 0", () => {
  assert.equal(
    line({ count: 5, elapsedMs: 0, sumElapsedMs: 10, minMs: 1, maxMs: 3 }),
    "summary =      5 in 00:00:00 = ******/s Avg:     2 Min:     1 Max:     3 Err:     0 (0.00%)",
  );
});

Deno.test("formatSummaryLine() prints JMeter's Long sentinels when nothing was sampled", () => {
  assert.equal(
    line({ count: 0, elapsedMs: 1234, sumElapsedMs: 0, minMs: 0, maxMs: 0 }),
    "summary =      0 in 00:00:00 = ******/s Avg:     0 Min: 9223372036854775807 Max: -9223372036854775808 Err:     0 (0.00%)",
  );
});

Deno.test("formatSummaryLine() rounds elapsed to the nearest second and does not wrap hours", () => {
  const at = (elapsedMs: number) => line({ elapsedMs }).split(" in ")[1].slice(0, 9);
  assert.equal(at(1499), "00:00:01 ");
  assert.equal(at(1500), "00:00:02 ");
  assert.equal(at(499), "00:00:00 ");
  assert.equal(at(59_500), "00:01:00 ");
  assert.equal(at((25 * 3600 + 61) * 1000 + 499), "25:01:01 ");
  assert.equal(at(100 * 3600 * 1000), "100:00:00");
});

Deno.test("formatSummaryLine() rounds the rate HALF_EVEN on the exact double", () => {
  // 49 / 4000 * 1000 is exactly 12.25: a tie, kept even (toFixed would give 12.3).
  assert.match(line({ count: 49, elapsedMs: 4000 }), / = {3}12\.2\/s /);
  // 51 / 4000 * 1000 = 12.75: a tie, rounded up to the even 12.8.
  assert.match(line({ count: 51, elapsedMs: 4000 }), / = {3}12\.8\/s /);
  // 1 / 3 * 1000 = 333.33…: plain rounding down.
  assert.match(line({ count: 1, elapsedMs: 3 }), / = {2}333\.3\/s /);
});

Deno.test("formatSummaryLine() truncates Avg", () => {
  assert.match(line({ count: 10, sumElapsedMs: 299 }), / Avg: {4}29 /);
  assert.match(line({ count: 3, sumElapsedMs: 2 }), / Avg: {5}0 /);
});

Deno.test("formatSummaryLine() prints the error share as #0.00% HALF_EVEN", () => {
  const pct = (errors: number, count: number) =>
    /\((.*)%\)$/.exec(line({ errors, count, sumElapsedMs: 0 }))![1];
  assert.equal(pct(3, 150254), "0.00");
  assert.equal(pct(1, 32), "3.12"); // 3.125 exactly: tie to even
  assert.equal(pct(3, 32), "9.38"); // 9.375 exactly: tie to even
  assert.equal(pct(846, 33307), "2.54");
  assert.equal(pct(5, 5), "100.00");
  assert.equal(pct(1, 3), "33.33");
  assert.equal(pct(2, 3), "66.67");
});

Deno.test("formatSummaryLine() adds Active/Started/Finished only on + lines", () => {
  const threads = { active: 0, started: 4050, finished: 4050 };
  assert.match(line({ type: "+", threads }), /\) Active: 0 Started: 4050 Finished: 4050$/);
  assert.match(line({ type: "=", threads }), /\(0\.00%\)$/);
  assert.throws(() => line({ type: "+" }), TypeError);
});

Deno.test("formatSummaryLine() appends the resource extension after the JMeter part", () => {
  const server = {
    time: 0,
    cpuPercent: 45.25,
    rssBytes: 34.1 * 2 ** 20,
    vszBytes: 1203.4 * 2 ** 20,
  };
  const generator = { time: 0, cpuPercent: 180.04, rssBytes: 1, vszBytes: 1 };
  assert.equal(
    line({ type: "+", threads: THREADS, resources: { server, generator } }),
    "summary +   1234 in 00:00:05 =  246.8/s Avg:    14 Min:     0 Max:    45 Err:     0 (0.00%) Active: 100 Started: 100 Finished: 0" +
      " | server CPU 45.3% RSS 34.1MiB VSZ 1203.4MiB | gen CPU 180.0%",
  );
  assert.equal(
    formatResourceExtension({}),
    " | server CPU n/a RSS n/a VSZ n/a | gen CPU n/a",
  );
  assert.equal(
    formatResourceExtension({ server: { ...server, rssBytes: NaN } }),
    " | server CPU 45.3% RSS n/a VSZ 1203.4MiB | gen CPU n/a",
  );
});

// --- Golden: real JMeter 5.3 output ------------------------------------------

const FIXTURE = await Deno.readTextFile(
  new URL("../fixtures/jmeter-5.3-summary-lines.txt", import.meta.url),
);
const GOLDEN = FIXTURE.split("\n").filter((l) => l.startsWith("summary "));

Deno.test("parseSummaryLine() reads every fixture line and rejects other text", () => {
  assert.equal(GOLDEN.length, 86);
  for (const l of GOLDEN) assert.ok(parseSummaryLine(l), l);
  assert.equal(parseSummaryLine("Tidying up ...    @ Mon Jan 01"), undefined);
  assert.deepEqual(
    parseSummaryLine(
      "summary + 150254 in 00:00:23 = 6614.5/s Avg:    14 Min:     0 Max:    45 Err:     0 (0.00%) Active: 100 Started: 100 Finished: 0",
    ),
    {
      name: "summary",
      type: "+",
      count: 150254,
      elapsedSeconds: 23,
      rate: "6614.5",
      avgMs: 14,
      minMs: 0,
      maxMs: 45,
      errors: 0,
      errorPercent: "0.00",
      threads: { active: 100, started: 100, finished: 0 },
    },
  );
});

Deno.test("formatSummaryLine() reproduces every JMeter 5.3 fixture line byte for byte", () => {
  for (const golden of GOLDEN) {
    const p = parseSummaryLine(golden)!;
    // Find an elapsed ms consistent with the printed HH:MM:SS and rate.
    const from = Math.max(1, p.elapsedSeconds * 1000 - 500);
    let elapsedMs: number | undefined;
    for (let ms = from; ms < p.elapsedSeconds * 1000 + 500; ms++) {
      if (formatHalfEven(p.count / ms * 1000, 1) === p.rate) {
        elapsedMs = ms;
        break;
      }
    }
    assert.ok(elapsedMs !== undefined, `no elapsed reproduces the rate of: ${golden}`);
    const formatted = formatSummaryLine({
      type: p.type,
      count: p.count,
      elapsedMs,
      sumElapsedMs: p.avgMs * p.count,
      minMs: p.minMs,
      maxMs: p.maxMs,
      errors: p.errors,
      threads: p.threads,
    });
    assert.equal(formatted, golden);
  }
});
