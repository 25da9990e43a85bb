/**
 * Every flag of every subcommand, given a wrong type, an out-of-range value
 * or a bad combination: exit 2, nothing on stdout, and a one-line `error: …`
 * reason first on stderr that names the flag. Real subprocesses, so a crash
 * or a hang shows up as a wrong exit code.
 */
import assert from "node:assert/strict";
import { runEchokit } from "../servers/testing.ts";

/** One bad invocation and what its reason must say. */
type Case = [args: string[], reason: RegExp];

const SERVE: Case[] = [
  [["--mode", "fast"], /^Invalid --mode "fast" \(use stream, protocol, blocking, nonblocking\)$/],
  [["--mode"], /^Option '--mode <value>' argument missing$/],
  [["--host="], /^Invalid --host "" \(use an address/],
  [["--port", "abc"], /^Invalid --port "abc" \(use a whole number from 0 to 65535\)$/],
  [["--port", "-1"], /^Invalid --port "-1"/],
  [["--port", "65536"], /^Invalid --port "65536"/],
  [["--port", "1.5"], /^Invalid --port "1\.5"/],
  [["--port", "0x10"], /^Invalid --port "0x10"/],
  [["--port="], /^Invalid --port ""/],
  [["--backlog", "0"], /^Invalid --backlog "0" \(use a whole number from 1 to 1048576\)$/],
  [["--backlog", "many"], /^Invalid --backlog "many"/],
  [["--max-buffer", "0"], /^Invalid --max-buffer "0"/],
  [["--max-buffer", "1k"], /^Invalid --max-buffer "1k"/],
  [["--max-buffer", "2147483648"], /^Invalid --max-buffer "2147483648"/],
  [["--max-connections", "0"], /^Invalid --max-connections "0"/],
  [["--max-connections", "-5"], /^Invalid --max-connections "-5"/],
  [["--max-connections", "Infinity"], /^Invalid --max-connections "Infinity"/],
  [["--idle-timeout", "abc"], /^Invalid --idle-timeout "abc" \(use a duration such as/],
  [["--idle-timeout", "-1s"], /^Invalid --idle-timeout "-1s"/],
  [["--idle-timeout", "0.1ms"], /^Invalid --idle-timeout "0\.1ms" \(use a duration from 1ms/],
  [["--idle-timeout", "99999999h"], /^Invalid --idle-timeout "99999999h"/],
  [
    ["--backend", "select", "--mode", "nonblocking"],
    /^Invalid --backend "select" \(use epoll, poll\)$/,
  ],
  [
    ["--backend", "poll"],
    /^Option --backend applies to --mode nonblocking only \(got --mode stream\)$/,
  ],
  [["--max-threads", "0", "--mode", "blocking"], /^Invalid --max-threads "0"/],
  [
    ["--max-threads", "8", "--mode", "protocol"],
    /^Option --max-threads applies to --mode blocking only/,
  ],
  [["--prespawn", "-1", "--mode", "blocking"], /^Invalid --prespawn "-1"/],
  [["--prespawn", "2"], /^Option --prespawn applies to --mode blocking only/],
  [
    ["--mode", "blocking", "--max-threads", "4", "--prespawn", "8"],
    /^Invalid --prespawn "8" \(use at most --max-threads, 4\)$/,
  ],
  [["--bogus"], /^Unknown option '--bogus'$/],
  [["extra"], /^Unexpected argument 'extra'$/],
];

const PLANS: Case[] = [
  [["--bogus"], /^Unknown option '--bogus'$/],
  [["--json=yes"], /^Option '--json' does not take an argument$/],
  [["extra"], /^Unexpected argument 'extra'$/],
];

/** Subcommand → its bad invocations; extend as subcommands land. */
const TABLE: Record<string, Case[]> = { serve: SERVE, plans: PLANS };

const run = (args: string[]) => runEchokit(args, { timeoutMs: 30_000 });

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    while (queue.length) await fn(queue.shift()!);
  }));
}

for (const [command, cases] of Object.entries(TABLE)) {
  Deno.test(`echokit ${command} exits 2 with a one-line reason for each of ${cases.length} bad flags`, async () => {
    const failures: string[] = [];
    await pool(cases, 4, async ([args, reason]) => {
      // serve would bind 7000 if a bad flag slipped through; port 0 keeps it harmless.
      const full = command === "serve" && !args.some((a) => a.startsWith("--port"))
        ? [command, "--port", "0", ...args]
        : [command, ...args];
      const r = await run(full);
      const first = r.stderr.split("\n")[0];
      const why = r.code !== 2
        ? `exit ${r.code}`
        : r.stdout !== ""
        ? `stdout not empty: ${JSON.stringify(r.stdout.slice(0, 80))}`
        : !first.startsWith("error: ")
        ? 'first stderr line is not "error: …"'
        : !reason.test(first.slice("error: ".length))
        ? `reason does not match ${reason}`
        : first.endsWith(".")
        ? "reason ends with a period"
        : undefined;
      if (why) failures.push(`${full.join(" ")}: ${why}\n  stderr: ${r.stderr.split("\n")[0]}`);
    });
    assert.deepEqual(failures, []);
  });
}
