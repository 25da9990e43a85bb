import assert from "node:assert/strict";
import { runEchokit } from "../servers/testing.ts";
import { main } from "./main.ts";

const run = (args: string[]) => runEchokit(args);

Deno.test("compare rejects conflicting or bad flags with exit 2 and a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [["--full", "--quick"], /Flags --full and --quick conflict/],
    [["--format", "xml"], /Invalid --format "xml" \(use table, markdown, json, csv\)/],
    [["--mode", "fast"], /Invalid --mode "fast"/],
    [["--baseline", "nope"], /Unknown --baseline "nope"/],
    [["--peer", "x=python3 server.py"], /has no \{port\}/],
    [["--connections", "10,abc"], /Invalid --connections level "abc"/],
    [["--micro", "--repeat", "3"], /--micro measures one connection and takes no --repeat/],
    [["--micro-time", "100"], /--micro-time needs --micro/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await run(["compare", ...args]);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
  }
});

Deno.test("compare --help describes the defaults and exits 0", async () => {
  const log = console.log;
  let text = "";
  console.log = (s: string) => text += s;
  try {
    assert.equal(await main(["compare", "--help"]), 0);
  } finally {
    console.log = log;
  }
  assert.match(text, /--full/);
  assert.match(text, /--peer SPEC/);
});

Deno.test("compare runs a tiny real comparison and writes every report file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../mod.ts", import.meta.url).pathname,
        "compare",
        "--mode",
        "stream,protocol",
        "--plan",
        "plan2",
        "--scale",
        "0.001",
        "--format",
        "csv",
        "--out",
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    });
    const out = await cmd.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /^scenario,plan,connections/);
    assert.equal(stdout.trimEnd().split("\n").length, 3);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "chart.svg",
      "report.html",
      "report.md",
      "results.csv",
      "results.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
