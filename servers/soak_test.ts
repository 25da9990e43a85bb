import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { childOutput } from "./testing.ts";
import { soakMode } from "./soak.ts";

Deno.test("soakMode() paces a real server's load, checks every echo and samples its RSS", async () => {
  const r = await soakMode("nonblocking", {
    seconds: 2,
    connections: 4,
    sampleEvery: 0.25,
    rate: 400,
    reconnectEvery: 50,
  });
  assert.equal(r.errors, 0, r.firstError);
  // 400/s for 2 s, never bursting: at most ~800 round trips; a loaded machine does fewer.
  assert.ok(r.roundTrips > 100 && r.roundTrips <= 820, `${r.roundTrips} round trips`);
  // Each client reconnects every 50 round trips.
  assert.ok(r.connections >= 4 + Math.floor(r.roundTrips / 50) - 4, `${r.connections} connections`);
  assert.ok(r.samples.length >= 5, `${r.samples.length} samples`);
  assert.ok(r.peakRssBytes >= r.startRssBytes && r.startRssBytes > 1 << 20);
  assert.equal(r.flat, Math.abs(r.slopeMiBPerMinute) <= 1);
});

Deno.test("deno task soak --parallel soaks the modes at once, each for the whole time", async () => {
  const root = new URL("../", import.meta.url);
  const out = await childOutput(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        `--config=${fileURLToPath(new URL("deno.json", root))}`,
        fileURLToPath(new URL("servers/soak.ts", root)),
        ...["--minutes", "0.05", "--parallel", "--rate", "200", "--modes", "stream,nonblocking"],
        ...["--sample-every", "0.5", "--connections", "2"],
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
    { timeoutMs: 60_000 },
  );
  assert.equal(out.code, 0, out.stderr);
  const rows = out.stdout.trim().split("\n");
  assert.match(rows[0], /^mode\s+seconds\s+round trips.*slope MiB\/min\s+RSS$/);
  assert.equal(rows.length, 3);
  for (const [i, mode] of ["stream", "nonblocking"].entries()) {
    const cells = rows[i + 1].trim().split(/\s+/);
    assert.equal(cells[0], mode);
    // In turn, the modes would share the 3 s (1.5 s each).
    assert.equal(cells[1], "3", "each mode soaks the whole 3 s");
    assert.equal(cells[5], "0", "no errors");
    assert.match(cells[10], /^(flat|rising|falling)$/);
  }
});

Deno.test("deno task soak --reconnect-every 1 opens a connection for every round trip", async () => {
  const root = new URL("../", import.meta.url);
  const dir = await Deno.makeTempDir();
  try {
    const out = await childOutput(
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          `--config=${fileURLToPath(new URL("deno.json", root))}`,
          fileURLToPath(new URL("servers/soak.ts", root)),
          ...["--minutes", "0.05", "--rate", "100", "--modes", "stream", "--connections", "2"],
          ...["--sample-every", "0.5", "--reconnect-every", "1", "--json", `${dir}/soak.json`],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
      { timeoutMs: 60_000 },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /reconnecting every 1 round trips/);
    const [r] = JSON.parse(await Deno.readTextFile(`${dir}/soak.json`));
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(r.roundTrips > 20, `${r.roundTrips} round trips`);
    // One connection per round trip, plus at most one per client opened as time ran out.
    assert.ok(
      r.connections >= r.roundTrips && r.connections <= r.roundTrips + 2,
      `${r.connections} connections for ${r.roundTrips} round trips`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
