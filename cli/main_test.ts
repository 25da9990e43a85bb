/** The CLI as a user meets it: real subprocesses, real exit codes. */
import assert from "node:assert/strict";
import { startServerProcess } from "../servers/child.ts";
import { connectLocal, roundTrip, runEchokit } from "../servers/testing.ts";
import { VERSION } from "./main.ts";

const run = (args: string[]) => runEchokit(args);

Deno.test("echokit --version prints the version from deno.json", async () => {
  const r = await run(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), `echokit ${VERSION}`);
});

Deno.test("echokit --help lists every subcommand", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  for (const name of ["serve", "load", "compare", "plans"]) {
    assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
  }
});

Deno.test("echokit serve --help shows the serve usage", async () => {
  const r = await run(["serve", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: echokit serve/);
});

Deno.test("echokit with an unknown command exits 2 with the usage", async () => {
  const r = await run(["bogus"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: Unknown command "bogus"/);
  assert.match(r.stderr, /Usage: echokit <command>/);
});

Deno.test("echokit serve with an unknown flag exits 2 with a one-line reason and the usage", async () => {
  const r = await run(["serve", "--bogus"]);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split("\n");
  assert.match(lines[0], /^error: Unknown option '--bogus'$/);
  assert.match(lines[1], /^Usage: echokit serve/);
});

Deno.test("echokit serve with a bad value exits 2 naming the value", async () => {
  for (
    const [args, pattern] of [
      [["serve", "--port", "70000"], /Invalid --port "70000"/],
      [["serve", "--mode", "fast"], /Invalid --mode "fast" \(use stream, protocol/],
      [["serve", "--backlog", "-1"], /Invalid --backlog "-1"/],
    ] as const
  ) {
    const r = await run([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`echokit serve stops on ${signal} within a second, printing final stats`, async () => {
    const server = await startServerProcess({ mode: "stream" });
    assert.match(
      server.stdout(),
      new RegExp(
        `^listening 127\\.0\\.0\\.1:${server.addr.port} mode=stream pid=${server.pid}$`,
        "m",
      ),
    );
    const conn = await connectLocal(server.addr.port);
    const msg = new TextEncoder().encode("hello\n");
    assert.deepEqual(await roundTrip(conn, msg), msg);
    conn.close();
    const started = performance.now();
    Deno.kill(server.pid, signal);
    const status = await server.exited;
    const took = performance.now() - started;
    assert.equal(status.code, 0, server.stderr());
    assert.ok(took < 1000, `took ${took} ms`);
    assert.match(
      server.stdout(),
      // The stream mode runs on its own loop: its stats add the loop's counters.
      /^stats mode=stream accepted=1 active=0 closed=1 bytesIn=6 bytesOut=6 errors=0 rejected=0 timedOut=0 syscalls=\d+ threads=1 writePauses=0 writeResumes=0 readPauses=0 peakWriteBuffer=0$/m,
    );
  });
}

Deno.test("echokit serve on a port in use exits 1 saying so", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (holder.addr as Deno.NetAddr).port;
    for (const mode of ["stream", "protocol"]) {
      const r = await run(["serve", "--mode", mode, "--port", String(port)]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        r.stderr.trim(),
        `error: Cannot listen on 127.0.0.1:${port}: address already in use (try --port 0)`,
      );
    }
  } finally {
    holder.close();
  }
});

Deno.test("echokit plans lists plan1 and plan2", async () => {
  const r = await run(["plans"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^plan1 +1000 threads × 2000 loops, ramp-up 1 s/m);
  assert.match(r.stdout, /^plan2 +100 threads × 20000 loops, ramp-up 1 s/m);
});
