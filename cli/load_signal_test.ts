/**
 * `echokit load` and signals, beyond the SIGINT case in load_test.ts: SIGTERM
 * while samples are stuck on a silent server still ends the run promptly with
 * the final summary and whole JSON/JTL files; a second signal exits at once.
 */
import assert from "node:assert/strict";
import { childOutput, spawnEchokit, waitFor } from "../servers/testing.ts";
import { fileURLToPath } from "node:url";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";

const HOSTILE = fileURLToPath(new URL("../fixtures/hostile_server.ts", import.meta.url));

function startSilent(): Promise<ServerProcess> {
  return startServerProcess({
    name: "hostile-silent",
    command: [Deno.execPath(), "run", "-A", HOSTILE, "--behaviour", "silent", "--port", "{port}"],
  });
}

/** Starts `load` with samples that will hang until their 60 s response timeout. */
function startStuckLoad(port: number, dir: string): Deno.ChildProcess {
  return spawnEchokit([
    "load",
    "--port",
    String(port),
    "--threads",
    "3",
    "--loops",
    "infinite",
    "--duration",
    "120s",
    "--response-timeout",
    "60s",
    "--json",
    `${dir}/r.json`,
    "--jtl",
    `${dir}/r.jtl`,
  ]);
}

/** Waits until the silent server has accepted `n` connections (the samples are in flight). */
async function waitAccepted(server: ServerProcess, n: number): Promise<void> {
  const accepted = () => (server.stdout().match(/^accepted /gm)?.length ?? 0) >= n;
  assert.ok(await waitFor(accepted, 30_000), "load never connected");
  // The accept comes before the request; let the request arrive too.
  await new Promise((r) => setTimeout(r, 200));
}

const collect = childOutput;

Deno.test({
  name:
    "load on SIGTERM with samples stuck on a silent server ends promptly with whole outputs and exits 143",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  async fn() {
    const server = await startSilent();
    const dir = await Deno.makeTempDir();
    try {
      const child = startStuckLoad(server.addr.port, dir);
      await waitAccepted(server, 3);
      const signalled = performance.now();
      child.kill("SIGTERM");
      const r = await collect(child);
      const took = (performance.now() - signalled) / 1000;
      assert.ok(took < 10, `took ${took.toFixed(1)} s after SIGTERM (response timeout is 60 s)`);
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stdout, /^summary = /m);
      const doc = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
      assert.equal(doc.interrupted, true);
      const jtl = await Deno.readTextFile(`${dir}/r.jtl`);
      assert.ok(jtl.endsWith("\n"), "the JTL ends with a whole row");
      const rows = jtl.split("\n").slice(1, -1);
      assert.equal(rows.length, doc.samples);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test({
    name: `load exits at once on a second ${signal}`,
    ignore: Deno.build.os === "windows",
    sanitizeResources: false,
    async fn() {
      const server = await startSilent();
      const dir = await Deno.makeTempDir();
      try {
        const child = startStuckLoad(server.addr.port, dir);
        await waitAccepted(server, 3);
        child.kill(signal);
        await new Promise((r) => setTimeout(r, 100));
        const signalled = performance.now();
        child.kill(signal);
        const r = await collect(child);
        const took = (performance.now() - signalled) / 1000;
        assert.ok(took < 2, `took ${took.toFixed(1)} s after the second ${signal}`);
        assert.equal(r.code, signal === "SIGTERM" ? 143 : 130, r.stderr);
        assert.match(r.stderr, /again to exit at once/);
        // Whatever the JTL holds is whole rows: a second signal may cut it short, never tear it.
        const jtl = await Deno.readTextFile(`${dir}/r.jtl`).catch(() => "");
        assert.ok(jtl === "" || jtl.endsWith("\n"), "torn last JTL row");
      } finally {
        await server.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
