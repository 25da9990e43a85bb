/** Connection limits, per mode, against real server processes. */
import assert from "node:assert/strict";
import { startServerProcess } from "./child.ts";
import { connectLocal, readToEnd, roundTrip } from "./testing.ts";
import type { Mode } from "./types.ts";

/** Modes that implement `--max-connections` and `--idle-timeout`. */
export const LIMIT_MODES: readonly Mode[] = ["stream", "protocol", "nonblocking"];

for (const mode of LIMIT_MODES) {
  Deno.test({
    name: `serve --mode ${mode} closes connections beyond --max-connections and counts them`,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({ mode, args: ["--max-connections", "2"] });
      const msg = new TextEncoder().encode("ping\n");
      const a = await connectLocal(server.addr.port);
      const b = await connectLocal(server.addr.port);
      try {
        assert.deepEqual(await roundTrip(a, msg), msg);
        assert.deepEqual(await roundTrip(b, msg), msg);
        const c = await connectLocal(server.addr.port);
        // The third is accepted and closed at once: EOF (or a reset) and no echo.
        await c.write(msg).catch(() => 0);
        const got = await readToEnd(c).catch(() => new Uint8Array());
        assert.equal(got.length, 0);
        c.close();
        // The first two are still served.
        assert.deepEqual(await roundTrip(a, msg), msg);
      } finally {
        a.close();
        b.close();
      }
      assert.equal((await server.stop()).code, 0);
      assert.match(server.stdout(), /rejected=1 /);
      assert.match(server.stderr(), /^limits: max-connections=2 idle-timeout=300s/m);
    },
  });

  Deno.test({
    name: `serve --mode ${mode} closes a connection idle past --idle-timeout`,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({ mode, args: ["--idle-timeout", "200ms"] });
      const idle = await connectLocal(server.addr.port);
      const started = performance.now();
      const got = await readToEnd(idle).catch(() => new Uint8Array());
      const waited = performance.now() - started;
      idle.close();
      assert.equal(got.length, 0);
      assert.ok(waited >= 150, `closed after ${waited} ms`);
      assert.ok(waited < 3000, `closed after ${waited} ms`);
      assert.equal((await server.stop()).code, 0);
      assert.match(server.stdout(), /timedOut=1/);
    },
  });
}

/** The listen queue length the kernel reports for a port (`ss -ltn`), or undefined without ss. */
async function kernelBacklog(port: number): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("ss", { args: ["-ltnH", `sport = :${port}`] }).output();
    const fields = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
    return fields.length > 2 ? Number(fields[2]) : undefined;
  } catch {
    return undefined;
  }
}

for (const mode of LIMIT_MODES) {
  Deno.test({
    name: `serve --mode ${mode} listens with the --backlog asked for`,
    ignore: Deno.build.os !== "linux",
    sanitizeResources: false,
    async fn(t) {
      const server = await startServerProcess({ mode, args: ["--backlog", "777"] });
      try {
        const backlog = await kernelBacklog(server.addr.port);
        if (backlog === undefined) {
          await t.step({ name: "ss is not installed", ignore: true, fn() {} });
          return;
        }
        assert.equal(backlog, 777);
      } finally {
        await server.stop();
      }
    },
  });
}
