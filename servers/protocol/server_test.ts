/** The protocol API on its own loop, against real loopback TCP. */
import assert from "node:assert/strict";
import { connectLocal, readExactly, readToEnd, roundTrip, waitFor, within } from "../testing.ts";
import { createProtocolServer, type ProtocolServer } from "./server.ts";
import { checkNeverReadingClient, withProtocolServer } from "./_test_server.ts";

const TEST_PROTOCOLS = new URL("./_test_protocols.ts", import.meta.url);
const ECHO = new URL("./echo.ts", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function withServer(
  factory: string | undefined,
  fn: (server: ProtocolServer) => Promise<void>,
): Promise<void> {
  return withProtocolServer({ protocol: factory ? TEST_PROTOCOLS : ECHO, factory }, fn);
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "createProtocolServer() echo pauses a client that never reads, with a bounded buffer",
  ...opts,
  async fn() {
    // Write without reading until a write stalls: the server stopped reading.
    // High water (64 KiB) plus one read's worth at most: memory is bounded.
    // Reading everything back drains the buffer and resumes the writer.
    await withServer(undefined, (server) => checkNeverReadingClient(server, 7));
  },
});

Deno.test({
  name: "createProtocolServer() echo answers what is pending after a half-close, then closes",
  ...opts,
  async fn() {
    await withServer(undefined, async (server) => {
      const conn = await connectLocal(server.addr.port);
      await conn.write(encoder.encode("abc"));
      await conn.closeWrite();
      assert.equal(decoder.decode(await readToEnd(conn)), "abc");
      conn.close();
      assert.ok(await waitFor(() => server.stats().closed === 1, 2000));
    });
  },
});

Deno.test({
  name: "createProtocolServer() keeps writing after EOF when eofReceived() returns true",
  ...opts,
  async fn() {
    await withServer("keepOpenAtEof", async (server) => {
      const conn = await connectLocal(server.addr.port);
      assert.equal(decoder.decode(await roundTrip(conn, encoder.encode("abc"))), "abc");
      await conn.closeWrite();
      assert.equal(decoder.decode(await readToEnd(conn)), "bye\n");
      conn.close();
    });
  },
});

Deno.test({
  name: "createProtocolServer() abort() drops the write buffer and the peer sees it at once",
  ...opts,
  async fn() {
    await withServer("abortWithBufferedData", async (server) => {
      const conn = await connectLocal(server.addr.port);
      try {
        await conn.write(encoder.encode("go"));
        // Let the reset arrive before reading: the peer's data is then discarded.
        assert.ok(await waitFor(() => server.stats().closed === 1, 2000));
        let got = 0;
        const buf = new Uint8Array(64 * 1024);
        const ended = await within(
          (async () => {
            try {
              for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) got += n;
              return "eof";
            } catch (err) {
              return (err as Error).name;
            }
          })(),
          2000,
        );
        assert.notEqual(ended, "timeout");
        assert.ok(got < 16 * 1024 * 1024, `received ${got} B: the buffer was not dropped`);
      } finally {
        conn.close();
      }
    });
  },
});

Deno.test({
  name: "createProtocolServer() pauseReading() stops dataReceived until resumeReading()",
  ...opts,
  async fn() {
    await withServer("pauseGate", async (server) => {
      const a = await connectLocal(server.addr.port);
      const b = await connectLocal(server.addr.port);
      try {
        assert.equal(decoder.decode(await roundTrip(a, encoder.encode("pause\n"))), "PAUSE\n");
        await a.write(encoder.encode("x"));
        const echo = readExactly(a, 1);
        assert.equal(await within(echo, 300), "timeout", "a paused transport delivered data");
        assert.equal(decoder.decode(await roundTrip(b, encoder.encode("resume\n"))), "RESUME\n");
        assert.equal(decoder.decode(await echo), "x");
        assert.equal(server.stats().readPauses, 1);
      } finally {
        a.close();
        b.close();
      }
    });
  },
});

Deno.test({
  name: "createProtocolServer() transport reports addresses and asyncio's low = high / 4",
  ...opts,
  async fn() {
    await withServer("describeTransport", async (server) => {
      const conn = await connectLocal(server.addr.port);
      await conn.write(encoder.encode("?"));
      const info = JSON.parse(decoder.decode(await readToEnd(conn)));
      conn.close();
      assert.deepEqual(info.sock, { hostname: "127.0.0.1", port: server.addr.port });
      assert.equal(info.peer.port, (conn.localAddr as Deno.NetAddr).port);
      assert.deepEqual(info.limits, { high: 1000, low: 250 });
    });
  },
});

Deno.test({
  name: "createProtocolServer() aborts only the connection whose callback throws",
  ...opts,
  async fn() {
    const warnings: string[] = [];
    const server = await createProtocolServer({
      protocol: TEST_PROTOCOLS,
      factory: "throwing",
      port: 0,
      onWarning: (m) => warnings.push(m),
    });
    try {
      const conn = await connectLocal(server.addr.port);
      await conn.write(encoder.encode("x"));
      await within(readToEnd(conn).catch(() => new Uint8Array()), 2000);
      conn.close();
      assert.ok(await waitFor(() => server.stats().errors === 1, 2000));
      assert.match(warnings.join("\n"), /protocol callback threw.*boom/);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "createProtocolServer() rejects a module without the factory export",
  ...opts,
  async fn() {
    await assert.rejects(
      createProtocolServer({ protocol: TEST_PROTOCOLS, factory: "nope", port: 0 }),
      /has no function export "nope"/,
    );
  },
});
