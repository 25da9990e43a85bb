import assert from "node:assert/strict";
import * as libc from "./libc.ts";
import {
  bufferAddress,
  CQE_F_BUFFER,
  CQE_F_MORE,
  IO_URING_DISABLED_ENV,
  ioUringUnavailableReason,
  multishotRecvReason,
  NO_MULTISHOT_RECV_ENV,
  OP,
  openRing,
  RECV_MULTISHOT,
  type Ring,
  type RingOptions,
  SQE_FLAGS,
} from "./io_uring.ts";
import { connectTcp, listenTcp } from "./socket.ts";

const REFUSED = ioUringUnavailableReason();
if (REFUSED !== undefined) console.log(`skipping io_uring tests: ${REFUSED}`);

/** Submits and reaps until the completion tagged `data` arrives; returns its result (and flags). */
function await1(ring: Ring, data: number, flags?: (f: number) => void): number {
  for (let turn = 0; turn < 100; turn++) {
    ring.submitAndWait(50);
    const n = ring.completions();
    for (let i = 0; i < n; i++) {
      if (ring.completionData(i) === data) {
        const res = ring.completionResult(i);
        flags?.(ring.completionFlags(i));
        ring.consume(n);
        return res;
      }
    }
    ring.consume(n);
  }
  throw new Error(`No completion ${data} within 100 turns`);
}

/** A ring and both ends of one accepted 127.0.0.1 connection; a test sets an end to -1 once it closed it. */
interface Pair {
  ring: Ring;
  client: number;
  server: number;
}

/**
 * Runs `fn` with a ring and a connection the ring accepted (the accept is
 * queued before the client connects), then closes whatever is left.
 */
function withPair(options: RingOptions, fn: (p: Pair) => void): void {
  const ring = openRing(options);
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const p: Pair = { ring, client: -1, server: -1 };
  try {
    ring.queue(OP.ACCEPT, listener.fd, 0, 0, 0, 0, 1);
    ring.submitAndWait(0);
    p.client = connectTcp({ hostname: "127.0.0.1", port: listener.addr.port }).fd;
    p.server = await1(ring, 1);
    assert.ok(p.server >= 0, `accept: ${p.server}`);
    fn(p);
  } finally {
    if (p.server >= 0) libc.close(p.server);
    if (p.client >= 0) libc.close(p.client);
    libc.close(listener.fd);
    ring.close();
  }
}

Deno.test({
  name: "an io_uring accepts, receives, sends and closes a real 127.0.0.1 connection",
  ignore: REFUSED !== undefined,
  fn() {
    withPair({ entries: 8 }, (p) => {
      const { ring, client, server } = p;
      const ping = new TextEncoder().encode("ping over the ring\n");
      assert.equal(libc.send(client, ping, ping.length, 0), ping.length);
      const buf = new Uint8Array(new ArrayBuffer(64));
      ring.queue(OP.RECV, server, bufferAddress(buf.buffer), buf.length, 0, 0, 2);
      const got = await1(ring, 2);
      assert.equal(got, ping.length);
      assert.deepEqual(buf.subarray(0, got), ping);
      ring.queue(OP.SEND, server, bufferAddress(buf.buffer), got, 0, 0, 3);
      assert.equal(await1(ring, 3), got);
      const back = new Uint8Array(64);
      assert.equal(libc.recv(client, back, back.length, 0), got);
      assert.deepEqual(back.subarray(0, got), ping);
      ring.queue(OP.CLOSE, server, 0, 0, 0, 0, 4);
      assert.equal(await1(ring, 4), 0);
      p.server = -1;
      // The server side is closed: the client reads EOF.
      assert.equal(libc.recv(client, back, back.length, 0), 0);
    });
  },
});

/** What `reason()` of io_uring.ts says in a fresh process with `variable=1`. */
async function reasonWith(reason: string, variable: string): Promise<string> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { ${reason} } from "${new URL("./io_uring.ts", import.meta.url)}";` +
      `console.log(${reason}());`,
    ],
    env: { [variable]: "1" },
  }).output();
  return new TextDecoder().decode(stdout).trim();
}

Deno.test("ioUringUnavailableReason() honours ECHOKIT_IO_URING_DISABLED=1", async () => {
  assert.equal(
    await reasonWith("ioUringUnavailableReason", IO_URING_DISABLED_ENV),
    "ECHOKIT_IO_URING_DISABLED=1",
  );
});

Deno.test({
  name: "an io_uring wait for a batch settles for the completions there once batchWaitUs is over",
  ignore: REFUSED !== undefined,
  fn() {
    assert.equal(openRingBatchWaits(), false);
    withPair({ entries: 8, batchWaitUs: 2000 }, ({ ring, client, server }) => {
      if (!ring.batchWaits) {
        console.log("skipping: this kernel has no IORING_FEAT_MIN_TIMEOUT (Linux 6.12)");
        return;
      }
      // A batch that completes returns whole.
      for (let i = 0; i < 3; i++) ring.queue(OP.NOP, -1, 0, 0, 0, 0, 10 + i);
      ring.submitAndWait(3000, 3);
      assert.equal(ring.completions(), 3);
      ring.consume(3);
      // One recv of bytes already sent: a batch of 2 never completes, so the
      // wait returns after its 2 ms with the one completion, not after 3 s.
      const ping = new TextEncoder().encode("ping\n");
      assert.equal(libc.send(client, ping, ping.length, 0), ping.length);
      const buf = new Uint8Array(new ArrayBuffer(64));
      ring.queue(OP.RECV, server, bufferAddress(buf.buffer), buf.length, 0, 0, 2);
      const t0 = performance.now();
      ring.submitAndWait(3000, 2);
      const took = performance.now() - t0;
      assert.equal(ring.completions(), 1);
      assert.equal(ring.completionData(0), 2);
      assert.equal(ring.completionResult(0), ping.length);
      ring.consume(1);
      assert.ok(took < 1500, `waited ${took.toFixed(1)} ms for a batch of 2`);
    });
  },
});

const NO_MULTISHOT = REFUSED ?? multishotRecvReason();

Deno.test({
  name: "one multishot recv posts a completion per arrival into provided buffers, and EOF ends it",
  ignore: NO_MULTISHOT !== undefined,
  fn() {
    withPair({ entries: 8 }, (p) => {
      const { ring, client, server } = p;
      const group = ring.provideBuffers(7, 2, 16);
      ring.queue(OP.RECV, server, 0, 0, 0, 0, 2, SQE_FLAGS.BUFFER_SELECT, RECV_MULTISHOT, 7);
      const seen: string[] = [];
      const ids = new Set<number>();
      // Three arrivals through two buffers: each is handed back once read.
      for (const word of ["one", "two", "three"]) {
        const bytes = new TextEncoder().encode(word);
        assert.equal(libc.send(client, bytes, bytes.length, 0), bytes.length);
        let flags = 0;
        const res = await1(ring, 2, (f) => flags = f);
        assert.ok((flags & CQE_F_MORE) !== 0, `${word}: the recv stays armed`);
        assert.ok((flags & CQE_F_BUFFER) !== 0, `${word}: a provided buffer`);
        const id = flags >>> 16;
        ids.add(id);
        seen.push(new TextDecoder().decode(group.bytes(id).subarray(0, res)));
        group.recycle(id);
      }
      assert.deepEqual(seen, ["one", "two", "three"]);
      assert.deepEqual([...ids].sort(), [0, 1]);
      libc.close(client);
      p.client = -1;
      let flags = -1;
      assert.equal(await1(ring, 2, (f) => flags = f), 0);
      assert.equal(flags & CQE_F_MORE, 0, "EOF ends the multishot recv");
    });
  },
});

Deno.test("provideBuffers() refuses a count that is not a power of two", {
  ignore: REFUSED !== undefined,
}, () => {
  const ring = openRing({ entries: 2 });
  try {
    assert.throws(() => ring.provideBuffers(0, 3, 16), /power of two up to 32768 buffers, not 3/);
  } finally {
    ring.close();
  }
});

Deno.test("multishotRecvReason() honours ECHOKIT_IO_URING_NO_MULTISHOT_RECV=1", async () => {
  assert.equal(
    await reasonWith("multishotRecvReason", NO_MULTISHOT_RECV_ENV),
    "ECHOKIT_IO_URING_NO_MULTISHOT_RECV=1",
  );
});

/** Whether a ring opened without batchWaitUs takes batches (it must not). */
function openRingBatchWaits(): boolean {
  const ring = openRing({ entries: 2 });
  try {
    return ring.batchWaits;
  } finally {
    ring.close();
  }
}
