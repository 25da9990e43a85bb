/**
 * One conformance suite, run against every server mode in a real child
 * process over real loopback TCP.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "./child.ts";
import {
  connectLocal,
  modeSkipReason,
  pattern,
  readExactly,
  readToEnd,
  roundTrip,
  rssBytes,
  writeAll,
} from "./testing.ts";
import type { Mode } from "./types.ts";

/** One server configuration the suite runs against. */
export interface ConformanceCase {
  /** The mode. */
  mode: Mode;
  /** Extra `serve` flags. */
  args?: string[];
  /**
   * Most connections the server serves at once (a capped thread pool); the
   * rest wait in the backlog, so clients must finish for others to be served.
   */
  servesAtMost?: number;
}

/** Modes (and variants) the suite covers; every one must pass all of it. */
export const CONFORMANCE_MODES: readonly ConformanceCase[] = [
  { mode: "stream" },
  { mode: "stream", args: ["--engine", "deno"] },
  { mode: "protocol" },
  { mode: "protocol", args: ["--engine", "node"] },
  // A cap below the 1000-connection step's count: the rest wait in the backlog.
  { mode: "blocking", args: ["--max-threads", "64"], servesAtMost: 64 },
  { mode: "nonblocking", args: ["--backend", "epoll"] },
  { mode: "nonblocking", args: ["--backend", "poll"] },
  // --work and --offload must keep every echo rule (order, half-close,
  // bounded memory), with async and sync completions both.
  { mode: "stream", args: ["--work", "sleep:1ms"] },
  { mode: "stream", args: ["--offload", "processes:1"] },
  { mode: "protocol", args: ["--work", "cpu:20us"] },
  { mode: "protocol", args: ["--offload", "threads:2"] },
  { mode: "nonblocking", args: ["--work", "sleep:1ms"] },
  // Skipped (with the reason printed) where io_uring is refused.
  { mode: "uring" },
];

for (const { mode, args = [], servesAtMost } of CONFORMANCE_MODES) {
  if (mode === "nonblocking" && args.includes("epoll") && Deno.build.os !== "linux") continue;
  Deno.test({
    name: `serve --mode ${mode} ${args.join(" ")} passes the echo conformance suite`.trimEnd(),
    ignore: modeSkipReason(mode) !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const server = await startServerProcess({ mode, args });
      const port = server.addr.port;
      try {
        await t.step("echoes 1 B, 64 B, 1 MiB and all 256 byte values exactly", async () => {
          const conn = await connectLocal(port);
          try {
            for (const size of [1, 64, 1024 * 1024]) {
              const data = pattern(size);
              assert.deepEqual(await roundTrip(conn, data), data, `${size} bytes`);
            }
            const all = Uint8Array.from({ length: 256 }, (_, i) => i);
            assert.deepEqual(await roundTrip(conn, all), all);
          } finally {
            conn.close();
          }
        });

        await t.step("serves 200 concurrent clients × 100 round trips", async () => {
          const clients = Array.from({ length: 200 }, async (_, c) => {
            const conn = await connectLocal(port);
            try {
              for (let i = 0; i < 100; i++) {
                const msg = new TextEncoder().encode(`client ${c} message ${i}\n`);
                assert.deepEqual(await roundTrip(conn, msg), msg);
              }
            } finally {
              conn.close();
            }
          });
          await Promise.all(clients);
        });

        await t.step("echoes pending data after a half-close, then closes", async () => {
          const conn = await connectLocal(port);
          const data = pattern(200_000);
          const reading = readToEnd(conn);
          await writeAll(conn, data);
          await conn.closeWrite();
          assert.deepEqual(await reading, data);
          conn.close();
        });

        await t.step("a new connection gets only its own bytes after others closed", async () => {
          // Closed connections' read buffers may be reused (stream pools
          // them): a short message must not come back with a previous
          // client's bytes after it.
          for (const size of [2048, 1000, 64]) {
            const old = await connectLocal(port);
            const filler = new Uint8Array(size).fill(0x41);
            assert.deepEqual(await roundTrip(old, filler), filler);
            old.close();
          }
          const conn = await connectLocal(port);
          const msg = new TextEncoder().encode("new\n");
          const reading = readToEnd(conn);
          await writeAll(conn, msg);
          await conn.closeWrite();
          assert.deepEqual(await reading, msg);
          conn.close();
        });

        await t.step("keeps serving a neighbour when a client resets mid-stream", async () => {
          const healthy = await connectLocal(port);
          try {
            for (let round = 0; round < 5; round++) {
              const bad = await connectLocal(port);
              await writeAll(bad, pattern(256 * 1024));
              // Closing with unread echoes in our receive buffer makes the
              // kernel send RST instead of FIN: a reset mid-stream.
              bad.close();
              const msg = pattern(1000);
              assert.deepEqual(await roundTrip(healthy, msg), msg);
            }
          } finally {
            healthy.close();
          }
        });

        await t.step("bounds memory for a client that never reads", async () => {
          const before = rssBytes(server.pid);
          const hog = await connectLocal(port);
          const chunk = pattern(1024 * 1024);
          let sent = 0;
          // The writes stall once the server stops reading; stop after 64 MiB or 2 s.
          const deadline = Date.now() + 2000;
          const writing = (async () => {
            try {
              while (sent < 64 * 1024 * 1024 && Date.now() < deadline) {
                await writeAll(hog, chunk);
                sent += chunk.length;
              }
            } catch {
              // Closed below.
            }
          })();
          await Promise.race([writing, new Promise((r) => setTimeout(r, 2500))]);
          const after = rssBytes(server.pid);
          // Still serves others meanwhile.
          const other = await connectLocal(port);
          const msg = pattern(64);
          assert.deepEqual(await roundTrip(other, msg), msg);
          other.close();
          hog.close();
          await writing;
          assert.ok(sent < 64 * 1024 * 1024, `server kept reading ${sent} bytes it could not send`);
          if (before !== undefined && after !== undefined) {
            const growth = after - before;
            assert.ok(growth < 48 * 1024 * 1024, `RSS grew ${growth} bytes`);
          }
        });

        if (servesAtMost === undefined) {
          await t.step("holds 1000 concurrent connections", async () => {
            const conns = await Promise.all(
              Array.from({ length: 1000 }, () => connectLocal(port)),
            );
            try {
              await Promise.all(conns.map(async (conn, i) => {
                const msg = new TextEncoder().encode(`conn ${i}\n`);
                assert.deepEqual(await readBack(conn, msg), msg);
              }));
            } finally {
              for (const conn of conns) conn.close();
            }
          });
        } else {
          await t.step(
            `serves 1000 concurrent connections, ${servesAtMost} at a time, none refused`,
            async () => {
              // Every connect completes (the kernel's backlog holds the rest);
              // each client leaves after its echo, freeing a thread for the next.
              const conns = await Promise.all(
                Array.from({ length: 1000 }, () => connectLocal(port)),
              );
              try {
                await Promise.all(conns.map(async (conn, i) => {
                  const msg = new TextEncoder().encode(`conn ${i}\n`);
                  assert.deepEqual(await readBack(conn, msg), msg);
                  conn.close();
                }));
              } catch (err) {
                for (const conn of conns) {
                  try {
                    conn.close();
                  } catch {
                    // Closed already.
                  }
                }
                throw err;
              }
            },
          );
        }
      } finally {
        const status = await server.stop();
        assert.equal(status.code, 0, server.stderr());
      }
      assert.match(server.stdout(), new RegExp(`^stats mode=${mode} accepted=\\d+`, "m"));
    },
  });
}

async function readBack(conn: Deno.Conn, msg: Uint8Array): Promise<Uint8Array> {
  await writeAll(conn, msg);
  return await readExactly(conn, msg.length);
}

for (const { mode, args = [] } of CONFORMANCE_MODES) {
  if (mode === "nonblocking" && args.includes("epoll") && Deno.build.os !== "linux") continue;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.test({
      name: `serve --mode ${mode} ${
        args.join(" ")
      } stops on ${signal} promptly with an open connection, printing final stats`
        .replace("  ", " "),
      ignore: Deno.build.os === "windows" || modeSkipReason(mode) !== undefined,
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        const server = await startServerProcess({ mode, args });
        // A connection whose server side sits in recv (or in the poll set).
        const conn = await connectLocal(server.addr.port);
        try {
          const msg = pattern(100);
          assert.deepEqual(await roundTrip(conn, msg), msg);
          const t0 = performance.now();
          Deno.kill(server.pid, signal);
          let timer: ReturnType<typeof setTimeout> | undefined;
          const status = await Promise.race([
            server.exited,
            new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 5000)),
          ]);
          clearTimeout(timer);
          const elapsed = performance.now() - t0;
          if (!status) await server.stop(0);
          assert.ok(status, `still running 5 s after ${signal}`);
          assert.equal(status.code, 0, server.stderr());
          // Each mode stops in well under a second (tens of ms, measured);
          // the margin is for a loaded machine. A thread that failed to wake
          // would show as a fallback-timeout warning on stderr.
          assert.ok(elapsed < 2000, `took ${Math.round(elapsed)} ms to stop`);
          assert.doesNotMatch(server.stderr(), /did not stop/);
          assert.match(
            server.stdout(),
            new RegExp(`^stats mode=${mode} accepted=1 active=0 closed=1 bytesIn=100 `, "m"),
          );
        } finally {
          conn.close();
          await server.stop(0);
        }
      },
    });
  }
}
