import assert from "node:assert/strict";
import { checkThresholds, formatThresholdLines, parseThreshold } from "./thresholds.ts";
import { fakeResult } from "../compare/_test_fixtures.ts";
import { UsageError } from "../util/errors.ts";

Deno.test("parseThreshold reads k6-style latency, error and rate thresholds in base units", () => {
  const cases: [string, string, string, number][] = [
    ["p99<5ms", "p99", "<", 5000],
    ["p99.9 <= 250us", "p99.9", "<=", 250],
    ["avg<1.5s", "avg", "<", 1_500_000],
    ["max<40µs", "max", "<", 40],
    ["P50>1ms", "p50", ">", 1000],
    ["err<0.1%", "err", "<", 0.001],
    ["err<=0.02", "err", "<=", 0.02],
    ["rate>1000/s", "rate", ">", 1000],
    ["rate>=250", "rate", ">=", 250],
  ];
  for (const [raw, metric, op, limit] of cases) {
    const t = parseThreshold(raw);
    assert.deepEqual([t.metric, t.op, t.limit], [metric, op, limit], raw);
  }
});

Deno.test("parseThreshold rejects bad syntax with a message naming the value and the fix", () => {
  const cases: [string, RegExp][] = [
    ["p99", /^Invalid --threshold "p99" \(use e\.g\. p99<5ms/],
    ["p99<5", /give a time with a unit: us, ms or s/],
    ["p99<fast", /give a time with a unit/],
    ["p42<5ms", /unknown metric "p42"/],
    ["err<5", /give a percentage or a fraction/],
    ["err<150%", /give a percentage or a fraction/],
    ["rate>lots", /give samples per second/],
    ["p99=5ms", /use e\.g\. p99<5ms/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(
      () => parseThreshold(raw),
      (e) => e instanceof UsageError && message.test(e.message),
      raw,
    );
  }
});

Deno.test("checkThresholds passes and fails each threshold on the measured figures", () => {
  // 1000 samples in 2 s = 500/s, 10 errors = 1%, p99 5000 µs, max 40 ms.
  const result = fakeResult({ samples: 1000, elapsedMs: 2000, errors: 10, p99Us: 5000 });
  const thresholds = [
    "p99<5ms",
    "p99<=5ms",
    "err<2%",
    "err<0.5%",
    "rate>400/s",
    "rate>600",
    "max<1s",
  ]
    .map(parseThreshold);
  const outcomes = checkThresholds(thresholds, result);
  assert.deepEqual(outcomes.map((o) => o.pass), [false, true, true, false, true, false, true]);
  assert.deepEqual(formatThresholdLines(outcomes).slice(0, 4), [
    "threshold p99<5ms: FAIL (5ms)",
    "threshold p99<=5ms: pass (5ms)",
    "threshold err<2%: pass (1%)",
    "threshold err<0.5%: FAIL (1%)",
  ]);
});

Deno.test("checkThresholds fails latency and rate thresholds of a run without samples", () => {
  const result = fakeResult({ samples: 0, elapsedMs: 1000, p99Us: 0 });
  const outcomes = checkThresholds(["p99<5ms", "rate>=0", "err<1%"].map(parseThreshold), result);
  assert.deepEqual(outcomes.map((o) => o.pass), [false, false, true]);
});
