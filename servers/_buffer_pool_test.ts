import assert from "node:assert/strict";
import { BufferPool } from "./_buffer_pool.ts";

Deno.test("BufferPool hands a returned buffer to the next taker instead of allocating", () => {
  const pool = new BufferPool(2048, 4);
  const a = pool.take();
  assert.equal(a.byteLength, 2048);
  assert.equal(pool.freeCount, 0);
  pool.give(a);
  assert.equal(pool.freeCount, 1);
  assert.equal(pool.take(), a);
  assert.equal(pool.freeCount, 0);
  assert.notEqual(pool.take(), a, "a taken buffer is not handed out twice");
});

Deno.test("BufferPool keeps at most maxFree buffers, so a closed burst does not stay allocated", () => {
  const pool = new BufferPool(16, 3);
  const taken = Array.from({ length: 10 }, () => pool.take());
  for (const b of taken) pool.give(b);
  assert.equal(pool.freeCount, 3);
  // Steady reconnects (take, give, take, give …) never grow it.
  for (let i = 0; i < 1000; i++) pool.give(pool.take());
  assert.equal(pool.freeCount, 3);
});

Deno.test("BufferPool ignores buffers it must not hand out: other sizes, views, detached", () => {
  const pool = new BufferPool(16, 8);
  pool.give(new Uint8Array(32));
  pool.give(new Uint8Array(32).subarray(0, 16));
  pool.give(new Uint8Array(32).subarray(16));
  const detached = new Uint8Array(16);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  pool.give(detached);
  assert.equal(pool.freeCount, 0);
  pool.give(new Uint8Array(16));
  assert.equal(pool.freeCount, 1);
});
