import assert from "node:assert/strict";
import { CLEAR_LINE, fitLine, redrawLine } from "./progress.ts";
import { progressLine } from "./load.ts";
import { childOutput, runEchokit } from "../servers/testing.ts";

Deno.test("fitLine keeps the last column free and marks a cut line", () => {
  assert.equal(fitLine("abc", 80), "abc");
  assert.equal(fitLine("x".repeat(79), 80), "x".repeat(79));
  assert.equal(fitLine("x".repeat(80), 80), "x".repeat(78) + "…");
  assert.equal([...fitLine("é".repeat(200), 40)].length, 39);
});

Deno.test("redrawLine returns to column 0 and erases the rest of the old line", () => {
  assert.equal(redrawLine("abcdef", 5), "\rabc…\x1b[K");
  assert.equal(CLEAR_LINE, "\r\x1b[K");
});

Deno.test("load's progress line of a big run fits 80 columns uncut", () => {
  const line = progressLine(
    {
      elapsedMs: 12_345.6,
      samples: 12_345_678,
      expected: 20_000_000,
      rate: 987_654,
      errors: 123_456,
      active: 10_000,
      threads: 10_000,
      warmup: true,
    } as Parameters<typeof progressLine>[0],
  );
  assert.ok(line.length < 80, `${line.length} columns: ${line}`);
  assert.equal(fitLine(line, 80), line);
});

Deno.test("load --connections is --threads, and giving both is a usage error", async () => {
  const r = await runEchokit(
    ["load", "--spawn", "stream", "--connections", "3", "--loops", "4", "--json", "-"],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.plan.threads, doc.samples], [3, 12]);
  const both = await runEchokit(["load", "--connections", "3", "--threads", "3"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--connections is --threads under another name \(give one of them\)/);
});

Deno.test("load --quiet prints only the results on stdout and nothing on stderr", async () => {
  const r = await runEchokit(
    ["load", "--spawn", "stream", "--threads", "2", "--loops", "5", "--interval", "1", "--quiet"],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.doesNotMatch(r.stdout, /^summary \+/m);
  assert.equal(r.stdout.match(/^summary = +10 /gm)?.length, 1, r.stdout);
});

Deno.test({
  name: "load on a pseudo-terminal redraws progress within the width, and --no-progress hides it",
  ignore: Deno.build.os !== "linux" ||
    new Deno.Command("sh", { args: ["-c", "command -v script"] }).outputSync().code !== 0,
  async fn() {
    const cmd = (extra: string) =>
      `stty cols 30; ${Deno.execPath()} run -A ${
        new URL("../mod.ts", import.meta.url).pathname
      } load --spawn stream --threads 4 --loops infinite --duration 2500ms ${extra} 2>&1`;
    const run = async (extra: string) => {
      const child = new Deno.Command("script", {
        args: ["-qec", cmd(extra), "/dev/null"],
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      return await childOutput(child, { timeoutMs: 60_000 });
    };
    const shown = await run("");
    assert.equal(shown.code, 0, shown.stderr);
    const redraws = shown.stdout.split("\r").filter((s) => s.endsWith("\x1b[K") && / smp /.test(s));
    assert.ok(redraws.length > 0, `no progress redraws in ${JSON.stringify(shown.stdout)}`);
    for (const r of redraws) {
      const text = r.slice(0, -3);
      assert.ok([...text].length <= 29, `progress line wider than 29: ${JSON.stringify(text)}`);
    }
    const hidden = await run("--no-progress");
    assert.equal(hidden.code, 0, hidden.stderr);
    assert.doesNotMatch(hidden.stdout, / smp /);
    assert.match(hidden.stdout, /summary = /);
  },
});
