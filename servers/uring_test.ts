/** The `uring` mode where io_uring is refused, and its library entry point. */
import assert from "node:assert/strict";
import { echokitArgv } from "./child.ts";
import { IO_URING_DISABLED_ENV } from "./os/io_uring.ts";
import { connectLocal, modeSkipReason, roundTrip, waitFor } from "./testing.ts";
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
