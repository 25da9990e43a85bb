import assert from "node:assert/strict";
import { loadLatencyHistogram } from "./histogram.ts";

const LatencyHistogram = await loadLatencyHistogram();

Deno.test("LatencyHistogram records microseconds with 3 significant digits", () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i);
  assert.equal(h.count, 1000);
  assert.equal(h.min, 1);
  assert.equal(h.max, 1000);
  assert.equal(h.percentile(50), 500);
  assert.equal(h.percentile(99), 990);
  assert.ok(Math.abs(h.mean - 500.5) < 1);
  h.record(123_456);
  assert.ok(Math.abs(h.max - 123_456) <= 123_456 / 1000);
});

Deno.test("LatencyHistogram survives encode/decode and merges across workers", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  for (let i = 0; i < 100; i++) a.record(100);
  for (let i = 0; i < 100; i++) b.record(300);
  const merged = new LatencyHistogram();
  merged.merge(LatencyHistogram.decode(a.encode()));
  merged.merge(LatencyHistogram.decode(b.encode()));
  assert.equal(merged.count, 200);
  assert.equal(merged.percentile(25), 100);
  assert.equal(merged.percentile(75), 300);
});

Deno.test("LatencyHistogram clamps negative and huge values and reads 0 when empty", () => {
  const h = new LatencyHistogram();
  assert.equal(h.percentile(99), 0);
  assert.equal(h.mean, 0);
  h.record(-5);
  h.record(1e12);
  assert.equal(h.count, 2);
  assert.equal(h.min, 0);
});
