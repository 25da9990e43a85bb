import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseDsoReport } from "./profile.ts";

Deno.test("parseDsoReport() names the places and sums the JIT threads", () => {
  const report = [
    "    66.90%  [kernel.kallsyms]",
    "    21.30%  deno",
    "     8.80%  libc.so.6",
    "     2.00%  [JIT] tid 5833",
    "     0.90%  [JIT] tid 5840",
    "",
  ].join("\n");
  assert.deepEqual(parseDsoReport(report), [
    { where: "kernel", percent: 66.9 },
    { where: "Deno runtime", percent: 21.3 },
    { where: "libc.so.6", percent: 8.8 },
    { where: "JavaScript (JIT)", percent: 2.9 },
  ]);
});

Deno.test("deno task profile exits 2 with a one-line reason for a bad flag", async () => {
  for (
    const [args, reason] of [
      [["--server", "fast"], /^error: Invalid --server "fast" \(use stream, /],
      [["--seconds", "0"], /^error: Invalid --seconds "0"/],
      [["--generator=yes"], /^error: Option '--generator' does not take an argument$/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fileURLToPath(new URL("./profile.ts", import.meta.url)), ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, args.join(" "));
    assert.equal(new TextDecoder().decode(out.stdout), "");
    const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
    assert.match(lines[0], reason);
  }
});
