/**
 * `deno task segments` as a user runs it: one real server, 4 real `load
 * --segment i/4 --start-at` processes, their merge, and one process running
 * the whole plan, compared. Then `compare merge` of the same files as the CLI
 * meets them: a missing segment exits 1 naming it, `--partial` merges anyway.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runEchokit } from "../servers/testing.ts";
import { formatSegmentsCheck, runSegmentsCheck } from "./segments.ts";

Deno.test("4 local segments of plan2 merge to the whole plan: samples, 100 threads, no duplicates, start spread under 50 ms", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const check = await runSegmentsCheck({ segments: 4, plan: "plan2", loops: 50, keep: dir });
    const text = formatSegmentsCheck(check);
    console.log(text);
    assert.deepEqual(check.failures, [], text);
    assert.equal(check.merged.samples, 100 * 50);
    assert.equal(check.whole.samples, 100 * 50);
    assert.equal(check.threads, 100);
    assert.equal(check.merged.plan.threads, 100);
    assert.deepEqual(check.duplicateThreads, []);
    assert.deepEqual(check.countMismatches, []);
    assert.deepEqual(check.segments.present, [0, 1, 2, 3]);
    assert.ok(check.startSpreadMs < 50, `start spread ${check.startSpreadMs} ms`);
    // Each segment ran 25 threads and said so in its own document.
    for (let i = 0; i < 4; i++) {
      const doc = JSON.parse(await Deno.readTextFile(join(dir, `segment-${i}.json`)));
      assert.equal(doc.plan.threads, 25);
      assert.equal(doc.segment.index, i);
      assert.equal(doc.segment.count, 4);
      assert.equal(doc.segment.planThreads, 100);
    }

    const files = [0, 1, 3].map((i) => join(dir, `segment-${i}.json`));
    const missing = await runEchokit(["compare", "merge", ...files]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(
      missing.stderr,
      /^error: Cannot merge: segments 2 of 4 missing \(give each segment's file once, or add --partial to merge anyway\)$/m,
    );
    const partial = await runEchokit([
      "compare",
      "merge",
      "--partial",
      "--format",
      "json",
      ...files,
    ]);
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(
      partial.stderr,
      /^warning: partial merge: segments 2 of 4 missing; the figures cover only/m,
    );
    const whole = await runEchokit([
      "compare",
      "merge",
      ...[0, 1, 2, 3].map((i) => join(dir, `segment-${i}.json`)),
    ]);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, /4 segments of 4 \(plan [0-9a-f]{16}, 100 threads, --start-at /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
