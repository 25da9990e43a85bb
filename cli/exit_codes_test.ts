/**
 * The CLI's exit codes, end to end in real processes: stop-test on a sample
 * error exits 1, a bad or failed `--threshold` exits 2 or 99 after all
 * output, an interrupted `compare` exits 143 after printing what it
 * measured. (SIGTERM on `load`: load_signal_test.ts.)
 */
import assert from "node:assert/strict";
import { childOutput, runEchokit, spawnEchokit } from "../servers/testing.ts";
import { startHostileServer } from "../fixtures/hostile_server.ts";
import { main } from "./main.ts";

Deno.test("load --on-error stop-test exits 1 when a sample fails", async () => {
  // Every reply is wrong: the first sample fails and stops the test.
  const server = await startHostileServer("wrong");
  try {
    const r = await runEchokit([
      "load",
      "--port",
      String(server.addr.port),
      "--threads",
      "2",
      "--loops",
      "50",
      "--on-error",
      "stop-test",
    ], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^summary = /m);
    assert.doesNotMatch(r.stdout, /^summary = +100 /m);
  } finally {
    await server.stop();
  }
});

Deno.test("load --threshold reports each verdict in text and JSON, then exits 99 when one fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runEchokit([
      "load",
      "--spawn",
      "stream",
      "--threads",
      "2",
      "--loops",
      "20",
      "--threshold",
      "p99<10s",
      "--threshold",
      "err<0.1%",
      "--threshold",
      "rate>100000000/s",
      "--json",
      `${dir}/r.json`,
    ], { timeoutMs: 60_000 });
    assert.equal(r.code, 99, r.stderr);
    assert.match(r.stdout, /^threshold p99<10s: pass \(/m);
    assert.match(r.stdout, /^threshold err<0\.1%: pass \(0%\)$/m);
    assert.match(r.stdout, /^threshold rate>100000000\/s: FAIL \(/m);
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(doc.samples, 40);
    assert.deepEqual(doc.thresholds.map((t: { pass: boolean }) => t.pass), [true, true, false]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load and compare reject a bad --threshold with exit 2 before running", async () => {
  for (const command of ["load", "compare"]) {
    const r = await runEchokit([command, "--threshold", "p99<5"], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Invalid --threshold "p99<5" \(give a time with a unit: us, ms or s/);
  }
});

Deno.test("every command's --help lists the exit codes", async () => {
  const log = console.log;
  let text = "";
  console.log = (s: string) => text += s;
  try {
    for (const command of ["load", "compare"]) {
      text = "";
      assert.equal(await main([command, "--help"]), 0);
      assert.match(text, /99 a --threshold failed/, command);
      assert.match(text, /130 SIGINT · 143 SIGTERM/, command);
    }
  } finally {
    console.log = log;
  }
});

Deno.test({
  name: "compare on SIGTERM prints what it measured and exits 143",
  ignore: Deno.build.os === "windows",
  async fn() {
    // Full-size plan2 runs for minutes: the signal always lands mid-run.
    const child = spawnEchokit([
      "compare",
      "--mode",
      "stream",
      "--plan",
      "plan2",
      "--full",
      "--format",
      "csv",
    ]);
    await new Promise((r) => setTimeout(r, 4000));
    child.kill("SIGTERM");
    const r = await childOutput(child, { timeoutMs: 60_000 });
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /stopping after the current run/);
    assert.match(r.stdout, /^scenario,plan,connections/);
  },
});

Deno.test("compare --threshold applies to every cell and names the cells that failed", async () => {
  const r = await runEchokit([
    "compare",
    "--mode",
    "stream,protocol",
    "--plan",
    "plan2",
    "--scale",
    "0.001",
    "--threshold",
    "err<=0",
    "--threshold",
    "rate>100000000/s",
  ], { timeoutMs: 120_000 });
  assert.equal(r.code, 99, r.stderr);
  assert.match(r.stdout, /^stream · .*: threshold err<=0: pass/m);
  assert.match(r.stdout, /^protocol · .*: threshold rate>100000000\/s: FAIL/m);
  assert.match(r.stdout, /^thresholds failed in 2 cell\(s\): stream · .*, protocol · /m);
});
