import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import {
  defaultOffloadSize,
  formatOffload,
  FrameReader,
  OffloadPool,
  parseOffload,
  READY_FRAME,
} from "./offload.ts";

Deno.test("parseOffload() reads threads and processes with and without a size", () => {
  assert.deepEqual(parseOffload("threads:8"), { kind: "threads", size: 8 });
  assert.deepEqual(parseOffload("processes:2"), { kind: "processes", size: 2 });
  assert.deepEqual(parseOffload("threads"), {
    kind: "threads",
    size: defaultOffloadSize("threads"),
  });
  assert.equal(formatOffload(parseOffload("processes:3")), "processes:3");
});

Deno.test("parseOffload() rejects other pools and sizes outside 1..1024", () => {
  for (const raw of ["", "fibers", "threads:0", "threads:-1", "processes:1025", "threads:x"]) {
    assert.throws(() => parseOffload(raw), UsageError, raw);
  }
});

Deno.test("defaultOffloadSize() is CPUs for processes and min(32, CPUs + 4) for threads", () => {
  assert.equal(defaultOffloadSize("processes", 8), 8);
  assert.equal(defaultOffloadSize("threads", 8), 12);
  assert.equal(defaultOffloadSize("threads", 64), 32);
});

Deno.test("FrameReader() splits frames across chunk boundaries and sees ready frames", () => {
  const reader = new FrameReader();
  const ready = new Uint8Array(4);
  new DataView(ready.buffer).setUint32(0, READY_FRAME, true);
  const bytes = new Uint8Array([...ready, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 1, 0, 0, 0, 9]);
  const out = [];
  for (const b of bytes) out.push(...reader.push(new Uint8Array([b])));
  assert.deepEqual(out, [
    "ready",
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    new Uint8Array([9]),
  ]);
});

for (const kind of ["threads", "processes"] as const) {
  Deno.test({
    name: `OffloadPool with ${kind} runs tasks FIFO, queues beyond its size and counts the wait`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const pool = await OffloadPool.start({ kind, size: 2, work: { kind: "block", ms: 100 } });
      try {
        const done: number[] = [];
        const started = performance.now();
        const replies = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => {
          const reply = await pool.run(new Uint8Array([i, i + 1]));
          done.push(i);
          return reply;
        }));
        const took = performance.now() - started;
        assert.deepEqual(replies, [0, 1, 2, 3, 4, 5].map((i) => new Uint8Array([i, i + 1])));
        // Two members, six 100 ms tasks: at least three rounds.
        assert.ok(took >= 300, `took ${took} ms`);
        // A member takes the oldest queued task: 0,1 first, 4,5 last.
        assert.deepEqual(new Set(done.slice(0, 2)), new Set([0, 1]));
        assert.deepEqual(new Set(done.slice(4)), new Set([4, 5]));
        const stats = pool.stats();
        assert.equal(stats.offloadPool, 2);
        assert.equal(stats.offloadTasks, 6);
        assert.equal(stats.offloadQueueMax, 4);
        // Tasks 2,3 waited ~100 ms, 4,5 ~200 ms.
        assert.ok(stats.offloadWaitMs >= 550, `waited ${stats.offloadWaitMs} ms`);
      } finally {
        await pool.close();
      }
      await assert.rejects(pool.run(new Uint8Array([1])), /Offload pool is closed/);
    },
  });
}
