import assert from "node:assert/strict";
import { startServerProcess } from "./child.ts";
import { parseStatsLine } from "./stats_line.ts";
import { roundTrip } from "./testing.ts";

const MiB = 2 ** 20;

Deno.test({
  name:
    "serve --mode blocking --prespawn 3 starts its threads before listening and reports their cost",
  ignore: Deno.build.os === "windows",
  async fn() {
    const server = await startServerProcess({
      mode: "blocking",
      args: ["--max-threads", "4", "--prespawn", "3"],
    });
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, server.stderr());
    const stats = parseStatsLine(server.stdout());
    assert.ok(stats, server.stdout());
    // Nothing connected: every thread counted here was started before the first connection.
    assert.equal(stats.accepted, 0);
    assert.equal(stats.prespawned, 3);
    assert.ok(stats.prespawnMs! > 0, `prespawnMs=${stats.prespawnMs}`);
    // Three V8 isolates: megabytes each, not the few KiB a bookkeeping bug would show.
    assert.ok(stats.prespawnBytes! / 3 > 2 * MiB, `prespawnBytes=${stats.prespawnBytes}`);
    assert.match(server.stderr(), /^prespawn: prespawned 3 threads in \d+\.\d s, \d+ MiB \(/m);
  },
});

Deno.test({
  name: "serve --mode blocking without --prespawn starts threads on demand and reports none",
  ignore: Deno.build.os === "windows",
  async fn() {
    const server = await startServerProcess({ mode: "blocking", args: ["--max-threads", "2"] });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const echoed = await roundTrip(conn, new Uint8Array([1, 2, 3]));
    conn.close();
    assert.deepEqual([...echoed], [1, 2, 3]);
    await server.stop();
    const stats = parseStatsLine(server.stdout());
    assert.equal(stats?.accepted, 1);
    assert.equal(stats?.prespawned, undefined);
    assert.doesNotMatch(server.stderr(), /^prespawn:/m);
  },
});
