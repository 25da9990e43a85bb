/** Streams over the protocol loop, against real loopback TCP. */
import assert from "node:assert/strict";
import { connectLocal, readToEnd, roundTrip, waitFor, within, writeAll } from "../testing.ts";
import type { ProtocolServer } from "./server.ts";
import { checkNeverReadingClient, withProtocolServer } from "./_test_server.ts";

const TEST_STREAMS = new URL("./_test_streams.ts", import.meta.url);
const STREAM_ECHO = new URL("../stream_loop.ts", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

function withServer(
  factory: string | undefined,
  fn: (server: ProtocolServer) => Promise<void>,
): Promise<void> {
  const protocol = factory ? TEST_STREAMS : STREAM_ECHO;
  return withProtocolServer({ mode: "stream", protocol, factory }, fn);
}

Deno.test({
  name: "stream echo on the loop: a client that never reads stalls its handler, memory bounded",
  ...opts,
  async fn() {
    // The handler waits in write() (above the high water mark), so it stops
    // reading; the reader keeps at most twice its limit, then pauses reading.
    await withServer(undefined, (server) => checkNeverReadingClient(server, 9));
  },
});

Deno.test({
  name: "stream echo on the loop: a half-close gets every echo, then EOF",
  ...opts,
  async fn() {
    await withServer(undefined, async (server) => {
      const conn = await connectLocal(server.addr.port);
      try {
        await writeAll(conn, encoder.encode("one two three"));
        await conn.closeWrite();
        assert.equal(decoder.decode(await readToEnd(conn)), "one two three");
        assert.ok(await waitFor(() => server.stats().closed === 1, 2000));
        assert.equal(server.stats().errors, 0);
      } finally {
        conn.close();
      }
    });
  },
});

Deno.test({
  name: "stream handlers on the loop: a handler awaiting a timer still answers",
  ...opts,
  async fn() {
    await withServer("timerEcho", async (server) => {
      const conn = await connectLocal(server.addr.port);
      try {
        for (const word of ["a", "bb", "ccc"]) {
          const back = await within(roundTrip(conn, encoder.encode(word)), 2000);
          assert.notEqual(back, "timeout", "the timer never fired");
          assert.equal(decoder.decode(back as Uint8Array), word);
        }
      } finally {
        conn.close();
      }
    });
  },
});

Deno.test({
  name: "stream handlers on the loop: bytes not yet read are kept for the next read",
  ...opts,
  async fn() {
    await withServer("smallReads", async (server) => {
      const conn = await connectLocal(server.addr.port);
      try {
        await writeAll(conn, new Uint8Array(30).fill(1)); // Ten 3-byte reads.
        await conn.closeWrite();
        assert.equal(decoder.decode(await readToEnd(conn)), "pieces=10\n");
      } finally {
        conn.close();
      }
    });
  },
});

Deno.test({
  name: "stream handlers on the loop: a handler that throws aborts its own connection only",
  ...opts,
  async fn() {
    await withServer("throwOnBang", async (server) => {
      const bad = await connectLocal(server.addr.port);
      const good = await connectLocal(server.addr.port);
      try {
        assert.equal(decoder.decode(await roundTrip(good, encoder.encode("hi"))), "hi");
        await writeAll(bad, encoder.encode("!"));
        const end = await within(readToEnd(bad).catch(() => new Uint8Array(0)), 2000);
        assert.notEqual(end, "timeout", "the failed connection stayed open");
        assert.equal((end as Uint8Array).length, 0);
        assert.equal(decoder.decode(await roundTrip(good, encoder.encode("still"))), "still");
      } finally {
        bad.close();
        good.close();
      }
    });
  },
});
