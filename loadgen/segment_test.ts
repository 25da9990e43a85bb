import assert from "node:assert/strict";
import { parseSegment, parseStartAt, planIdentity, segmentThreads } from "./segment.ts";
import { BUILTIN_PLANS } from "./plans.ts";

Deno.test("segmentThreads() splits a plan into disjoint interleaved segments that together are the plan", () => {
  for (const [threads, n] of [[100, 4], [10, 3], [7, 7], [5, 8], [1000, 7]]) {
    const segments = Array.from(
      { length: n },
      (_, i) => segmentThreads(threads, { index: i, count: n }),
    );
    const all = segments.flat().sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: threads }, (_, k) => k), `${threads}/${n}`);
    // The first threads % n segments get one thread more.
    segments.forEach((s, i) => {
      assert.equal(s.length, Math.floor(threads / n) + (i < threads % n ? 1 : 0));
      assert.ok(s.every((k) => k % n === i));
    });
  }
  assert.deepEqual(segmentThreads(3), [0, 1, 2]);
});

Deno.test("parseSegment() takes 0-based I/N and refuses I ≥ N, N = 0 and other text", () => {
  assert.deepEqual(parseSegment("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseSegment(" 3 / 4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "1/0", "-1/4", "1", "a/b", "1/4/2", "1.5/4", "", "0/10001"]) {
    assert.throws(
      () => parseSegment(bad),
      new RegExp(`^UsageError: Invalid --segment "${bad.replace(/[./]/g, "\\$&")}" \\(use I/N`),
      bad,
    );
  }
});

Deno.test("parseStartAt() reads ISO 8601 and epoch ms, refuses times over 1 s past or a day ahead", () => {
  const now = Date.UTC(2026, 11, 7, 2, 0, 0);
  assert.equal(parseStartAt("2026-12-07T02:00:30Z", now), now + 30_000);
  assert.equal(parseStartAt("2026-12-07T03:00:30+01:00", now), now + 30_000);
  assert.equal(parseStartAt(String(now + 5), now), now + 5);
  assert.equal(parseStartAt(String(now - 900), now), now - 900);
  assert.throws(() => parseStartAt(String(now - 1500), now), /it is 1\.5 s in the past/);
  assert.throws(() => parseStartAt(String(now + 86_400_001), now), /more than 24 h away/);
  for (const bad of ["soon", "12:00", "2026-13-40T00:00:00Z", ""]) {
    assert.throws(() => parseStartAt(bad, now), /^UsageError: Invalid --start-at/, bad);
  }
});

Deno.test("planIdentity() is the same across hosts and changes with loops or rate", () => {
  const plan = { ...BUILTIN_PLANS.plan2, loops: 200 };
  const id = planIdentity(plan);
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(planIdentity({ ...plan, host: "echokit-server", port: 7001 }), id);
  assert.notEqual(planIdentity({ ...plan, loops: 201 }), id);
  assert.notEqual(planIdentity(plan, 1000), id);
  assert.notEqual(planIdentity(plan, 1000), planIdentity(plan, 2000));
});
