import assert from "node:assert/strict";
import { childOutput, spawnEchokit } from "../servers/testing.ts";
import { freePort } from "../servers/child.ts";
import { parseSummaryLine } from "../loadgen/summary_line.ts";

const load = (args: string[]) => spawnEchokit(["load", ...args]);

const output = childOutput;

/** Reads the child's stderr until `text` appears (or it ends); returns what was read. */
async function stderrUntil(child: Deno.ChildProcess, text: string): Promise<string> {
  const reader = child.stderr.getReader();
  let err = "";
  while (!err.includes(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return err;
}

Deno.test("load on SIGINT prints the final summary and leaves complete JSON and JTL files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const child = load([
      "--spawn",
      "stream",
      "--threads",
      "10",
      "--loops",
      "infinite",
      "--duration",
      "60",
      "--json",
      `${dir}/r.json`,
      "--jtl",
      `${dir}/r.jtl`,
    ]);
    // Let it sample for a moment (the server start is part of the wait).
    await stderrUntil(child, "started stream server");
    // Long enough for samples to complete even on a busy 2-core machine.
    await new Promise((r) => setTimeout(r, 2000));
    child.kill("SIGINT");
    const { code, stdout } = await output(child);
    assert.equal(code, 130);
    const summary = stdout.split("\n").filter((l) => l.startsWith("summary ="));
    assert.ok(summary.length >= 1, stdout);
    const count = parseSummaryLine(summary[0])!.count;
    assert.ok(count > 0);
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(doc.interrupted, true);
    assert.equal(doc.samples, count);
    const rows = (await Deno.readTextFile(`${dir}/r.jtl`)).split("\n");
    assert.equal(rows.at(-1), "", "the file ends with a whole row");
    assert.equal(rows.length - 2, count);
    for (const row of rows.slice(1, -1)) assert.equal(row.split(",").length, 17, row);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load --json says once why it cannot write the file when its folder goes away", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    // The folder exists when the flags are checked, so the run starts.
    const child = load([
      "--spawn",
      "stream",
      "--threads",
      "2",
      "--loops",
      "infinite",
      "--duration",
      "60",
      "--json",
      `${dir}/sub/r.json`,
    ]);
    const err = await stderrUntil(child, "started stream server");
    // Gone by the time the result is written (on Ctrl-C, as at the end of a run).
    await Deno.remove(`${dir}/sub`);
    child.kill("SIGINT");
    const { code, stdout, stderr } = await output(child, { timeoutMs: 60_000 });
    assert.equal(code, 1, err + stderr);
    assert.match(stdout, /^summary = /m);
    const line = `error: Cannot write --json "${dir}/sub/r.json": the directory does not exist`;
    assert.ok(stderr.split("\n").includes(line), stderr);
    assert.equal(stderr.match(/Cannot write/g)?.length, 1, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load --json - prints only the JSON document on stdout", async () => {
  const { code, stdout, stderr } = await output(
    load(["--spawn", "stream", "--threads", "3", "--loops", "20", "--json", "-"]),
  );
  assert.equal(code, 0, stderr);
  const doc = JSON.parse(stdout);
  assert.equal(doc.samples, 60);
  assert.equal(doc.errors, 0);
  assert.match(stderr, /^summary = {5}60 in /m);
});

Deno.test("load says what to do when nothing listens on the port", async () => {
  const port = await freePort();
  const { code, stderr } = await output(load(["--port", String(port), "--threads", "1"]));
  assert.equal(code, 1);
  assert.match(
    stderr,
    new RegExp(
      `Nothing is listening on 127\\.0\\.0\\.1:${port} \\(start one with \`deno task serve\` or pass --spawn MODE\\)`,
    ),
  );
});

Deno.test("load rejects a bad flag value with a usage error", async () => {
  const { code, stderr } = await output(load(["--engine", "turbo"]));
  assert.equal(code, 2);
  assert.match(stderr, /Invalid --engine "turbo" \(use auto, poll, uring, async\)/);
});

Deno.test("load --jtl-thread-prefix needs --jtl and a plain host label", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--jtl-thread-prefix", "hostA"],
      /--jtl-thread-prefix names the threads of a JTL \(add --jtl FILE\)/,
    ],
    [
      ["--jtl", "/nonexistent/x.jtl", "--jtl-thread-prefix", "host A"],
      /Invalid --jtl-thread-prefix "host A"/,
    ],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await output(load(args));
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
  }
});

Deno.test("load runs a user's .jmx with a Constant Timer, a Transaction Controller and -Jthreads=20", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plan = new URL("../fixtures/jmx/timer_transaction.jmx", import.meta.url).pathname;
    const child = load([
      "--plan",
      plan,
      "--spawn",
      "stream",
      "-Jthreads=20",
      "-Jloops=3",
      "-Jthink=50",
      "--jtl",
      `${dir}/r.jtl`,
      "--json",
      `${dir}/r.json`,
    ]);
    const { code, stderr } = await output(child);
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(doc.plan.threads, 20);
    assert.equal(doc.samples, 60); // the summariser counts the sampler, not the transaction
    assert.equal(doc.errors, 0);
    const rows = (await Deno.readTextFile(`${dir}/r.jtl`)).trim().split("\n").slice(1);
    assert.equal(rows.length, 120);
    const labels = rows.map((r) => r.split(",")[2]);
    assert.equal(labels.filter((l) => l === "Echo request").length, 60);
    assert.equal(labels.filter((l) => l === "Echo transaction").length, 60);
    assert.match(rows[0], /,Echo request,200,OK,Echo users 1-\d+,text,true,/);
    assert.match(
      rows[1],
      /,Echo transaction,200,"Number of samples in transaction : 1, number of failing samples : 0",Echo users 1-\d+,,true,/,
    );
    const samples = rows.map((r) => r.split(",")).filter((f) => f[2] === "Echo request");
    assert.equal(new Set(samples.map((f) => f[5])).size, 20);
    // The 50 ms Constant Timer runs before every sample: each thread's samples are ≥ 50 ms apart.
    const first = samples.filter((f) => f[5] === "Echo users 1-1").map((f) => Number(f[0]));
    assert.equal(first.length, 3);
    for (let i = 1; i < 3; i++) assert.ok(first[i] - first[i - 1] >= 49, first.join(" "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
