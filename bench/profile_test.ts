import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseDsoReport, parseSymbolShares } from "./profile.ts";

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

Deno.test("parseSymbolShares() reads each named symbol's share with its callees, 0 when absent", () => {
  const report = [
    "    23.59%    23.46%  [k] pvm_irq_enable",
    "     9.43%     1.54%  [k] sock_def_readable",
    "     2.81%     0.08%  [k] ep_send_events",
    "     0.50%     0.50%  [.] main",
    "",
  ].join("\n");
  assert.deepEqual(parseSymbolShares(report, ["sock_def_readable", "main", "io_poll_wake"]), [
    { where: "sock_def_readable", percent: 9.43 },
    { where: "main", percent: 0.5 },
    { where: "io_poll_wake", percent: 0 },
  ]);
});

Deno.test("deno task profile exits 2 with a one-line reason for a bad flag", async () => {
  for (
    const [args, reason] of [
      [["--server", "fast"], /^error: Invalid --server "fast" \(use stream, /],
      [["--seconds", "0"], /^error: Invalid --seconds "0"/],
      [["--generator=yes"], /^error: Option '--generator' does not take an argument$/],
      [["--by", "wrk"], /^error: Invalid --by "wrk" \(use c-client, poll, uring\)/],
      [
        ["--generator", "--by", "uring"],
        /^error: --by names who loads the server; with --generator/,
      ],
      [["--symbols", ","], /^error: Invalid --symbols ","/],
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
