/** Which engine serves stream and protocol, on real listeners. */
import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import { serve } from "./serve.ts";

function ipv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

for (const [mode, other] of [["stream", "deno"], ["protocol", "node"]] as const) {
  Deno.test(`serve() ${mode}: own loop by default, ${other} with --work (with a note)`, async () => {
    const own = await serve({ mode, port: 0 });
    try {
      assert.deepEqual(own.notes ?? [], []);
      assert.equal("writePauses" in own.stats(), true, "not the own loop's stats");
    } finally {
      await own.close();
    }
    const moved = await serve({ mode, port: 0, work: { kind: "sleep", ms: 1 } });
    try {
      assert.match((moved.notes ?? []).join("\n"), new RegExp(`^${mode}: engine ${other}, since`));
      assert.equal("writePauses" in moved.stats(), false);
    } finally {
      await moved.close();
    }
    await assert.rejects(
      serve({ mode, port: 0, engine: "loop", work: { kind: "sleep", ms: 1 } }),
      (e) => e instanceof UsageError && e.message.includes(`need --engine ${other}`),
    );
  });

  Deno.test({
    name: `serve() ${mode} on ::1 moves to ${other}: the own loop binds IPv4 only`,
    ignore: !ipv6Loopback(),
    async fn() {
      const server = await serve({ mode, hostname: "::1", port: 0 });
      try {
        assert.match((server.notes ?? []).join("\n"), /the own loop binds IPv4 only/);
      } finally {
        await server.close();
      }
    },
  });
}
