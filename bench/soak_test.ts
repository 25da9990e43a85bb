import assert from "node:assert/strict";
import { childOutput, runScript } from "../servers/testing.ts";
import { SOAK_SEMI_SPACE_MB, soakMode, soakV8Flags } from "./soak.ts";

/** Runs `deno task soak ARGS` (bench/soak.ts) as a child and collects its output. */
function soakCli(args: string[]): ReturnType<typeof runScript> {
  return runScript("bench/soak.ts", args, { timeoutMs: 60_000 });
}

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
  const out = await soakCli([
    ...["--minutes", "0.05", "--parallel", "--rate", "200", "--modes", "stream,nonblocking"],
    ...["--sample-every", "0.5", "--connections", "2"],
  ]);
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
  const dir = await Deno.makeTempDir();
  try {
    const out = await soakCli([
      ...["--minutes", "0.05", "--rate", "100", "--modes", "stream", "--connections", "2"],
      ...["--sample-every", "0.5", "--reconnect-every", "1", "--json", `${dir}/soak.json`],
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /reconnecting every 1 round trips/);
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/soak.json`));
    assert.deepEqual([doc.schema, doc.schemaVersion], ["echokit/soak", 1]);
    const [r] = doc.results;
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

Deno.test("soakV8Flags() caps the young generation by default, the old one when asked", () => {
  assert.equal(SOAK_SEMI_SPACE_MB, 2);
  assert.equal(soakV8Flags(), "--max-semi-space-size=2");
  assert.equal(soakV8Flags(32), "--max-old-space-size=32,--max-semi-space-size=2");
  assert.equal(soakV8Flags(32, 8), "--max-old-space-size=32,--max-semi-space-size=8");
  assert.equal(soakV8Flags(32, 0), "--max-old-space-size=32");
  assert.equal(soakV8Flags(undefined, 0), undefined);
});

Deno.test("V8 takes soakV8Flags() from DENO_V8_FLAGS: the young generation stays within the cap", async () => {
  // Objects that keep surviving scavenges make V8 double the new space, up to
  // 2 x 32 MiB on its own; under the soak's flags it stays within 2 x 2 MiB.
  const script = `
    import v8 from "node:v8";
    const keep = [];
    let most = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20000; i++) {
        const o = { i, a: [i] };
        if (i % 50 === 0) keep.push(o);
      }
      if (keep.length > 20000) keep.splice(0, 10000);
      const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
      most = Math.max(most, space.space_size);
    }
    console.log(most);
  `;
  const newSpaceMost = async (v8Flags: string | undefined) => {
    const out = await childOutput(
      new Deno.Command(Deno.execPath(), {
        args: ["eval", script],
        env: v8Flags ? { DENO_V8_FLAGS: v8Flags } : {},
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
      { timeoutMs: 60_000 },
    );
    assert.equal(out.code, 0, out.stderr);
    return Number(out.stdout.trim()) / (1024 * 1024);
  };
  // Two semi-spaces of the cap, plus V8's page rounding (measured 4.0–4.5 MiB for 2 × 2).
  const bound = 2 * SOAK_SEMI_SPACE_MB + 1;
  const capped = await newSpaceMost(soakV8Flags(32));
  assert.ok(capped > 0 && capped <= bound, `new space reached ${capped} MiB`);
  const own = await newSpaceMost(soakV8Flags(undefined, 0));
  assert.ok(own > 2 * bound, `uncapped new space only reached ${own} MiB`);
});
