/** `serve --stats-interval` and `--stats-json` as a user meets them: a real server process. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServerProcess } from "../servers/child.ts";
import type { ServerStatsSeries } from "../servers/stats_interval.ts";
import { connectLocal, roundTrip, runEchokit } from "../servers/testing.ts";

const LINE =
  /^stats-interval time=\d{4}-\d\d-\d\dT[\d:.]+Z cpu=\d+\.\d% rss=\d+\.\dMiB vsz=(\d+\.\dMiB|n\/a) accepted=(\d+) active=(\d+) closed=\d+ bytesIn=(\d+) bytesOut=\d+ errors=\d+/gm;

function intervalLines(stdout: string): RegExpMatchArray[] {
  return [...stdout.matchAll(LINE)];
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const run = (args: string[]) => runEchokit(args);

Deno.test("serve --stats-interval 0.2 prints a stats-interval line about every 0.2 s", async () => {
  const server = await startServerProcess({ mode: "stream", args: ["--stats-interval", "0.2"] });
  try {
    const started = performance.now();
    await waitFor("2 stats-interval lines", () => intervalLines(server.stdout()).length >= 2);
    // Two lines at 0.2 s need at least ~0.4 s; far more would mean the flag was ignored.
    const took = performance.now() - started;
    assert.ok(took < 5000, `2 lines took ${took} ms`);

    const conn = await connectLocal(server.addr.port);
    const msg = new TextEncoder().encode("stats please\n");
    assert.deepEqual(await roundTrip(conn, msg), msg);
    const before = intervalLines(server.stdout()).length;
    await waitFor(
      "a line counting the connection",
      () =>
        intervalLines(server.stdout()).slice(before).some((m) =>
          m[2] === "1" && m[3] === "1" && Number(m[4]) === msg.length
        ),
    );
    conn.close();
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
  }
});

Deno.test("serve --stats-json writes the series atomically after SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "server.json");
  try {
    const server = await startServerProcess({
      mode: "protocol",
      args: ["--stats-interval", "0.1", "--stats-json", file],
    });
    const conn = await connectLocal(server.addr.port);
    const msg = new TextEncoder().encode("x".repeat(1000));
    assert.deepEqual(await roundTrip(conn, msg), msg);
    conn.close();
    await waitFor("a stats-interval line", () => intervalLines(server.stdout()).length >= 2);
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound, "written only at exit");
    Deno.kill(server.pid, "SIGTERM");
    const status = await server.exited;
    assert.equal(status.code, 0, server.stderr());

    const series: ServerStatsSeries = JSON.parse(await Deno.readTextFile(file));
    assert.deepEqual([series.schema, series.schemaVersion], ["echokit/serve-stats", 1]);
    assert.equal(series.mode, "protocol");
    assert.equal(series.pid, server.pid);
    assert.equal(series.addr.port, server.addr.port);
    assert.equal(series.intervalMs, 100);
    assert.ok(series.samples.length >= 3, `${series.samples.length} samples`);
    for (const s of series.samples) {
      assert.ok(s.cpuPercent >= 0 && s.rssBytes > 0 && s.elapsedMs > 0);
    }
    const last = series.samples.at(-1)!;
    assert.equal(last.stats.accepted, 1);
    assert.equal(last.stats.bytesIn, 1000);
    assert.ok(series.endTime >= last.time && series.startTime <= series.samples[0].time);
    // The stdout lines are the same samples as the file (all but the final one, taken at stop).
    assert.equal(intervalLines(server.stdout()).length, series.samples.length - 1);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["server.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --stats-json alone samples every second without printing lines", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "s.json");
  try {
    const server = await startServerProcess({ mode: "stream", args: ["--stats-json", file] });
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
    assert.equal(intervalLines(server.stdout()).length, 0);
    const series: ServerStatsSeries = JSON.parse(await Deno.readTextFile(file));
    assert.equal(series.intervalMs, 1000);
    assert.ok(series.samples.length >= 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve with a bad --stats-interval or --stats-json exits 2 naming the value", async () => {
  for (
    const [args, pattern] of [
      [["--stats-interval", "0"], /Invalid --stats-interval "0" \(use 0\.01 to 86400 seconds\)/],
      [["--stats-interval", "often"], /Invalid --stats-interval "often"/],
      [
        ["--stats-json", "/no/such/dir/s.json"],
        /Cannot write --stats-json "\/no\/such\/dir\/s\.json": directory "\/no\/such\/dir"/,
      ],
    ] as const
  ) {
    const r = await run(["serve", "--port", "0", ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

Deno.test("serve stops cleanly on a SIGTERM sent the moment its listening line appears", async () => {
  for (let i = 0; i < 3; i++) {
    const server = await startServerProcess({ mode: "stream" });
    const status = await server.stop();
    assert.equal(status.code, 0, `run ${i}: ${server.stderr()}`);
    assert.match(server.stdout(), /^stats mode=stream /m);
  }
});
