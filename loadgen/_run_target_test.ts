/** The target probe, against real loopback listeners. */
import assert from "node:assert/strict";
import { EchokitError } from "../util/errors.ts";
import { listenForServer } from "../servers/_ffi_listen.ts";
import * as libc from "../servers/os/libc.ts";
import { probe } from "./_run_target.ts";

Deno.test("probe() passes a listener and names a port nothing listens on", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  await probe("127.0.0.1", port);
  listener.close();
  await assert.rejects(
    probe("127.0.0.1", port),
    (e) =>
      e instanceof EchokitError &&
      e.message.startsWith(`Nothing is listening on 127.0.0.1:${port}`),
  );
});

Deno.test({
  name: "probe() gives up on a listener whose accept queue is full, in its time limit",
  ignore: libc.libcUnavailableReason() !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Backlog 0, never accepted: once its queue is full the kernel drops new
    // SYNs, as a firewall would, and a connect would wait for minutes.
    const listener = listenForServer({ mode: "nonblocking", backlog: 1 }, "127.0.0.1", 0);
    const port = listener.addr.port;
    const held: Deno.Conn[] = [];
    try {
      let full = false;
      for (let i = 0; i < 8 && !full; i++) {
        try {
          await probe("127.0.0.1", port, { timeoutMs: 300 });
          held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
        } catch (err) {
          assert.ok(err instanceof EchokitError, String(err));
          assert.match(err.message, /^No answer from 127\.0\.0\.1:\d+ within 300 ms/);
          full = true;
        }
      }
      assert.ok(full, "the accept queue never filled");
      // An abort ends the wait at once, quietly.
      const controller = new AbortController();
      const started = performance.now();
      const waiting = probe("127.0.0.1", port, { timeoutMs: 5000, signal: controller.signal });
      controller.abort();
      await waiting;
      assert.ok(performance.now() - started < 1000);
    } finally {
      for (const c of held) c.close();
      libc.close(listener.fd);
    }
  },
});
