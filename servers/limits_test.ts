/** Connection limits, per mode, against real server processes. */
import assert from "node:assert/strict";
import { startServerProcess } from "./child.ts";
import { connectLocal, modeSkipReason, readToEnd, roundTrip, writeAll } from "./testing.ts";
import type { Mode } from "./types.ts";

/** Modes that implement `--max-connections` and `--idle-timeout`. */
export const LIMIT_MODES: readonly Mode[] = [
  "stream",
  "protocol",
  "blocking",
  "nonblocking",
  "uring",
];

/**
 * Extra `serve` flags per mode: blocking threads are started before the test
 * connects, so a thread start (a Worker, up to a second on a busy machine)
 * does not count towards the timings.
 */
const MODE_ARGS: Partial<Record<Mode, string[]>> = {
  blocking: ["--prespawn", "2"],
};

/** Every mode, and the stream and protocol modes' other engines too. */
const LIMIT_CASES: { mode: Mode; extra: string[]; tag: string }[] = [
  ...LIMIT_MODES.map((mode) => ({ mode, extra: MODE_ARGS[mode] ?? [], tag: "" })),
  { mode: "stream", extra: ["--engine", "deno"], tag: " --engine deno" },
  { mode: "protocol", extra: ["--engine", "node"], tag: " --engine node" },
];

for (const { mode, extra, tag } of LIMIT_CASES) {
  Deno.test({
    name: `serve --mode ${mode}${tag} closes connections beyond --max-connections and counts them`,
    ignore: modeSkipReason(mode) !== undefined,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({
        mode,
        args: ["--max-connections", "2", ...extra],
      });
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
      assert.match(server.stdout(), / active=0 closed=2 .* rejected=1 /);
      assert.match(server.stderr(), /^limits: max-connections=2 idle-timeout=300s/m);
    },
  });

  Deno.test({
    name: `serve --mode ${mode}${tag} closes a connection idle past --idle-timeout`,
    ignore: modeSkipReason(mode) !== undefined,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({
        mode,
        args: ["--idle-timeout", "200ms", ...extra],
      });
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

  Deno.test({
    name: `serve --mode ${mode}${tag} closes a connection that stops reading past --idle-timeout`,
    ignore: modeSkipReason(mode) !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({
        mode,
        args: ["--idle-timeout", "300ms", ...extra],
      });
      const conn = await connectLocal(server.addr.port);
      try {
        // Far more than the socket buffers hold: the echo stalls, our write
        // stalls, and nothing moves until the server gives up on us.
        const started = performance.now();
        const writing = writeAll(conn, new Uint8Array(64 * 1024 * 1024)).then(
          () => "written",
          () => "failed",
        );
        let timer: ReturnType<typeof setTimeout> | undefined;
        const outcome = await Promise.race([
          writing,
          new Promise((r) => timer = setTimeout(() => r("still open"), 5000)),
        ]);
        clearTimeout(timer);
        const waited = performance.now() - started;
        assert.equal(outcome, "failed", `the write ${outcome} after ${Math.round(waited)} ms`);
        assert.ok(waited >= 250, `closed after ${waited} ms`);
      } finally {
        conn.close();
      }
      assert.equal((await server.stop()).code, 0);
      assert.match(server.stdout(), / active=0 .*timedOut=1/);
    },
  });
}

Deno.test({
  name: "serve --mode blocking with --max-threads below --max-connections queues, not rejects",
  sanitizeResources: false,
  async fn() {
    const server = await startServerProcess({
      mode: "blocking",
      args: ["--max-threads", "1", "--prespawn", "1", "--max-connections", "4"],
    });
    const msg = new TextEncoder().encode("ping\n");
    const a = await connectLocal(server.addr.port);
    const b = await connectLocal(server.addr.port);
    try {
      assert.deepEqual(await roundTrip(a, msg), msg);
      // The only thread serves a: b waits in the backlog, neither served nor closed.
      await writeAll(b, msg);
      const waiting = b.read(new Uint8Array(64));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const early = await Promise.race([
        waiting,
        new Promise((r) => timer = setTimeout(() => r("waiting"), 300)),
      ]);
      clearTimeout(timer);
      assert.equal(early, "waiting");
      a.close();
      // Once a leaves, its thread takes b.
      assert.equal(await waiting, msg.length);
    } finally {
      for (const conn of [a, b]) {
        try {
          conn.close();
        } catch {
          // Closed above.
        }
      }
    }
    assert.equal((await server.stop()).code, 0);
    assert.match(server.stdout(), /accepted=2 active=0 closed=2 .* rejected=0 /);
    assert.match(server.stderr(), /at most 1 threads; further connections wait in the backlog/);
  },
});

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
    ignore: Deno.build.os !== "linux" || modeSkipReason(mode) !== undefined,
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
