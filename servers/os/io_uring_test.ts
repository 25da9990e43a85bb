import assert from "node:assert/strict";
import * as libc from "./libc.ts";
import { bufferAddress, ioUringUnavailableReason, OP, openRing, type Ring } from "./io_uring.ts";
import { connectTcp, listenTcp } from "./socket.ts";

const REFUSED = ioUringUnavailableReason();
if (REFUSED !== undefined) console.log(`skipping io_uring tests: ${REFUSED}`);

/** Submits and reaps until the completion tagged `data` arrives; returns its result. */
function await1(ring: Ring, data: number): number {
  for (let turn = 0; turn < 100; turn++) {
    ring.submitAndWait(50);
    const n = ring.completions();
    for (let i = 0; i < n; i++) {
      if (ring.completionData(i) === data) {
        const res = ring.completionResult(i);
        ring.consume(n);
        return res;
      }
    }
    ring.consume(n);
  }
  throw new Error(`No completion ${data} within 100 turns`);
}

Deno.test({
  name: "an io_uring accepts, receives, sends and closes a real 127.0.0.1 connection",
  ignore: REFUSED !== undefined,
  fn() {
    const ring = openRing({ entries: 8 });
    const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
    let client = -1;
    let server = -1;
    try {
      ring.queue(OP.ACCEPT, listener.fd, 0, 0, 0, 0, 1);
      ring.submitAndWait(0);
      client = connectTcp({ hostname: "127.0.0.1", port: listener.addr.port }).fd;
      server = await1(ring, 1);
      assert.ok(server >= 0, `accept: ${server}`);
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
      server = -1;
      // The server side is closed: the client reads EOF.
      assert.equal(libc.recv(client, back, back.length, 0), 0);
    } finally {
      if (server >= 0) libc.close(server);
      if (client >= 0) libc.close(client);
      libc.close(listener.fd);
      ring.close();
    }
  },
});

Deno.test("ioUringUnavailableReason() honours ECHOKIT_IO_URING_DISABLED=1", async () => {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { ioUringUnavailableReason } from "${new URL("./io_uring.ts", import.meta.url)}";` +
      "console.log(ioUringUnavailableReason());",
    ],
    env: { ECHOKIT_IO_URING_DISABLED: "1" },
  }).output();
  assert.equal(new TextDecoder().decode(stdout).trim(), "ECHOKIT_IO_URING_DISABLED=1");
});
