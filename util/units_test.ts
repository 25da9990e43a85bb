import assert from "node:assert/strict";
import { parseDuration } from "./units.ts";
import { UsageError } from "./errors.ts";

Deno.test("parseDuration reads simple and compound durations in milliseconds", () => {
  const cases: [string, number][] = [
    ["30", 30_000],
    ["1.5s", 1500],
    ["250ms", 250],
    ["200us", 0.2],
    ["2m", 120_000],
    ["1m30s", 90_000],
    ["1h2m", 3_720_000],
    ["1h0m5s", 3_605_000],
    ["1s500ms", 1500],
  ];
  for (const [raw, ms] of cases) assert.equal(parseDuration("--duration", raw), ms, raw);
  assert.equal(parseDuration("--ramp-up", "500", "ms"), 500);
});

Deno.test("parseDuration rejects malformed durations with a clear message", () => {
  for (const raw of ["", "1m30", "30s1m", "1m1m", "fast", "1 m", "-1s", "1d", "ms"]) {
    assert.throws(
      () => parseDuration("--duration", raw),
      (e) =>
        e instanceof UsageError &&
        e.message ===
          `Invalid --duration "${raw}" (use a duration such as 30s, 1.5s, 250ms, 2m or 1m30s)`,
      raw,
    );
  }
});
