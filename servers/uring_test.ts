/** The `uring` mode where io_uring is refused, and its library entry point. */
import assert from "node:assert/strict";
import { echokitArgv } from "./child.ts";
import { IO_URING_DISABLED_ENV } from "./os/io_uring.ts";
import { connectLocal, modeSkipReason, roundTrip, waitFor, within } from "./testing.ts";
import { serveUring } from "./uring.ts";

Deno.test("serve --mode uring exits 1 with one line naming the reason where io_uring is refused", async () => {
  const [cmd, ...args] = echokitArgv(["serve", "--mode", "uring", "--port", "0"]);
  const out = await new Deno.Command(cmd, {
    args,
    env: { [IO_URING_DISABLED_ENV]: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trimEnd();
  assert.equal(out.code, 1, stderr);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(
    stderr,
    /^error: Cannot use mode "uring": io_uring is unavailable: ECHOKIT_IO_URING_DISABLED=1/,
  );
  assert.equal(new TextDecoder().decode(out.stdout), "");
});

Deno.test({
  name: "serveUring() echoes in this process and counts the connection in stats()",
  ignore: modeSkipReason("uring") !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await serveUring({ mode: "uring", port: 0 });
    try {
      const conn = await connectLocal(server.addr.port);
      const msg = new TextEncoder().encode("completion");
      assert.deepEqual(await roundTrip(conn, msg), msg);
      conn.close();
      // The loop publishes its counters once per turn: wait for the close's.
      await waitFor(() => server.stats().closed === 1, 5_000);
      const stats = server.stats();
      assert.equal(server.mode, "uring");
      assert.equal(stats.accepted, 1);
      assert.equal(stats.bytesOut, msg.length);
    } finally {
      await server.close();
    }
  },
});

Deno.test("serveUring() refuses --work with a usage error naming the mode to use", async () => {
  await assert.rejects(
    serveUring({ mode: "uring", work: { kind: "sleep", ms: 1 } }),
    /--work is not available in mode "uring" \(use --mode nonblocking/,
  );
});

/**
 * Opens 16 connections; each turn all 16 do a round trip at once, then the
 * first does one alone (after `pauseMs` of quiet). Returns the slowest lone
 * round trip, ms.
 */
async function busyThenAlone(port: number, turns: number, pauseMs = 0): Promise<number> {
  const conns = await Promise.all(Array.from({ length: 16 }, () => connectLocal(port)));
  try {
    const msg = new TextEncoder().encode("batch");
    let slowest = 0;
    for (let t = 0; t < turns; t++) {
      for (const e of await Promise.all(conns.map((c) => roundTrip(c, msg)))) {
        assert.deepEqual(e, msg);
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      const start = performance.now();
      assert.deepEqual(await roundTrip(conns[0], msg), msg);
      slowest = Math.max(slowest, performance.now() - start);
    }
    return slowest;
  } finally {
    for (const c of conns) c.close();
  }
}

for (const batchWaitUs of [0, 2_000]) {
  Deno.test({
    name: `serveUring({ batchWaitUs: ${batchWaitUs} }) answers a lone message among busy turns`,
    ignore: modeSkipReason("uring") !== undefined,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      // After a turn of 16 echoes the waits ask for batches of 4, so the
      // lone message's batch never fills: its wait must end after
      // batchWaitUs, not at the loop's next timer (about 1 s away).
      const server = await serveUring({ mode: "uring", port: 0, batchWaitUs });
      try {
        const slowest = await within(busyThenAlone(server.addr.port, 20), 10_000);
        assert.notEqual(slowest, "timeout");
        assert.ok((slowest as number) < 500, `a lone round trip took ${slowest} ms`);
        await waitFor(() => server.stats().closed === 16, 5_000);
        assert.equal(server.stats().bytesOut, 20 * 17 * 5);
        // A wait that began while 16 were busy, and has sat through their
        // quiet since, answers the next message at once too.
        const afterQuiet = await within(busyThenAlone(server.addr.port, 3, 100), 10_000);
        assert.notEqual(afterQuiet, "timeout");
        assert.ok((afterQuiet as number) < 500, `a round trip after quiet took ${afterQuiet} ms`);
      } finally {
        await server.close();
      }
    },
  });
}

Deno.test("serveUring() refuses a batch wait it cannot pass to the kernel", async () => {
  for (const batchWaitUs of [-1, 1.5, 10_001]) {
    await assert.rejects(
      serveUring({ mode: "uring", port: 0, batchWaitUs }),
      /Invalid batchWaitUs .* \(use a whole number of µs, 0 to 10000\)/,
    );
  }
});
