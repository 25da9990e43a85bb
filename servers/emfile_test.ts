/**
 * Running out of file descriptors (EMFILE) must not stop the libc servers:
 * they log once, back off, and serve again once descriptors are freed.
 */
import assert from "node:assert/strict";
import type { Mode } from "./types.ts";
import { echokitArgv, startServerProcess } from "./child.ts";
import { connectLocal, modeSkipReason, roundTrip, waitFor } from "./testing.ts";

const CASES = [
  {
    mode: "nonblocking",
    args: ["--backend", Deno.build.os === "linux" ? "epoll" : "poll"],
    what: "survives EMFILE with a logged back-off",
    // A Deno process with a Worker holds ~35 fds: room for ~30 connections.
    limit: 64,
    expect: /accept failed: Too many open files; pausing accepts/,
  },
  {
    // Skipped (with the reason printed) where io_uring is refused.
    mode: "uring",
    args: [],
    what: "survives EMFILE with a logged back-off",
    limit: 64,
    expect: /accept failed: Too many open files; pausing accepts/,
  },
  {
    mode: "protocol",
    args: [],
    what: "survives EMFILE with a logged back-off on its own loop",
    limit: 64,
    expect: /accept failed: Too many open files; pausing accepts/,
  },
  {
    // Each Worker holds fds of its own and Deno aborts when it cannot get
    // them, so this mode stops starting threads before the limit instead.
    mode: "blocking",
    args: ["--max-threads", "64"],
    what: "stops starting threads at the open-files limit",
    limit: 128,
    expect: /not starting another thread: \d+ files open .* open-file limit of 128/,
  },
];

for (const { mode, args, what, limit, expect } of CASES) {
  Deno.test({
    name: `serve --mode ${mode} ${what} and serves again once clients leave`,
    ignore: Deno.build.os === "windows" || modeSkipReason(mode as Mode) !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const argv = echokitArgv(["serve", "--mode", mode, "--port", "{port}", ...args]);
      const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
      const server = await startServerProcess({
        name: mode,
        command: ["sh", "-c", `ulimit -n ${limit} && exec ${quoted}`],
      });
      const conns: Deno.TcpConn[] = [];
      try {
        // Connects complete in the kernel's backlog even when accept fails.
        for (let i = 0; i < 60; i++) conns.push(await connectLocal(server.addr.port));
        await waitFor(() => expect.test(server.stderr()), 10_000);
        assert.match(server.stderr(), expect);
        for (const c of conns.splice(0)) c.close();
        const fresh = await connectLocal(server.addr.port);
        try {
          const msg = new TextEncoder().encode("after EMFILE");
          assert.deepEqual(await roundTrip(fresh, msg), msg);
        } finally {
          fresh.close();
        }
      } finally {
        for (const c of conns) c.close();
        const status = await server.stop();
        assert.equal(status.code, 0, server.stderr());
      }
      assert.match(
        server.stdout(),
        new RegExp(`^stats mode=${mode} accepted=\\d+ active=0 `, "m"),
      );
    },
  });
}

for (const { mode, args, limit, expect } of CASES) {
  Deno.test({
    name: `serve({ mode: "${mode}" }) passes the open-files warning from its thread to onWarning`,
    ignore: Deno.build.os === "windows" || modeSkipReason(mode as Mode) !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const options = {
        mode,
        ...(mode === "blocking" ? { maxThreads: Number(args[1]) } : {}),
      };
      // The library, not the CLI: warnings go to onWarning, printed here on stdout.
      const script = `
        import { serve } from "${new URL("./serve.ts", import.meta.url).href}";
        const server = await serve({
          ...${JSON.stringify(options)},
          port: {port},
          onWarning: (m) => console.log("onWarning: " + m),
        });
        console.log("listening 127.0.0.1:" + server.addr.port + " mode=${mode} pid=" + Deno.pid);
        Deno.addSignalListener("SIGTERM", () => server.close().then(() => Deno.exit(0)));
      `;
      // `ulimit -n` lowers the hard limit too, which the server cannot raise back.
      const server = await startServerProcess({
        name: mode,
        command: ["sh", "-c", `ulimit -n ${limit} && exec "$0" eval "$1"`, Deno.execPath(), script],
      });
      const conns: Deno.TcpConn[] = [];
      const warned = new RegExp(`^onWarning: ${mode}: .*${expect.source}`, "m");
      try {
        for (let i = 0; i < 60; i++) conns.push(await connectLocal(server.addr.port));
        await waitFor(() => warned.test(server.stdout()), 10_000);
        assert.match(server.stdout(), warned);
        assert.doesNotMatch(server.stderr(), expect, "the warning went to onWarning, not stderr");
      } finally {
        for (const c of conns) c.close();
        await server.stop();
      }
    },
  });
}
