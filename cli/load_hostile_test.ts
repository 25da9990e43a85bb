/**
 * `echokit load` against half-broken servers (fixtures/hostile_server.ts):
 * every failed sample is counted as an error of the right kind in `Err`, the
 * JSON and the JTL; no virtual user hangs past its timeouts, and the run ends
 * on schedule. Real subprocesses, real loopback TCP.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { splitJtlRow } from "../loadgen/jtl.ts";
import { parseSummaryLine } from "../loadgen/summary_line.ts";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";
import { runEchokit } from "../servers/testing.ts";
import { ioUringUnavailableReason } from "../servers/os/io_uring.ts";

const HOSTILE = fileURLToPath(new URL("../fixtures/hostile_server.ts", import.meta.url));

function startHostile(behaviour: string): Promise<ServerProcess> {
  return startServerProcess({
    name: `hostile-${behaviour}`,
    command: [Deno.execPath(), "run", "-A", HOSTILE, "--behaviour", behaviour, "--port", "{port}"],
  });
}

/** The error kind a JTL responseMessage stands for (see loadgen/jtl.ts). */
function jtlKind(message: string): string {
  if (/ReadException/.test(message)) return "timeout";
  if (/Connection refused/.test(message)) return "refused";
  if (/Connection reset/.test(message)) return "reset";
  if (/EOFException/.test(message)) return "eof";
  if (/EchoMismatchException/.test(message)) return "mismatch";
  return `other: ${message}`;
}

interface LoadRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  /** The JSON document. */
  doc: {
    samples: number;
    errors: number;
    errorsByKind: Record<string, number>;
    interrupted?: boolean;
  };
  /** JTL rows after the header: success flag and error kind. */
  rows: { success: boolean; kind?: string; timeStamp: number }[];
  /** `summary =` count and Err. */
  summary: { count: number; errors: number };
}

async function runLoad(port: number, args: string[], timeoutMs = 60_000): Promise<LoadRun> {
  const dir = await Deno.makeTempDir();
  try {
    const loadArgs = [
      "load",
      "--port",
      String(port),
      "--json",
      `${dir}/r.json`,
      "--jtl",
      `${dir}/r.jtl`,
      ...args,
    ];
    const started = performance.now();
    // A hang is a failure, not a stuck test run.
    const { code, stdout, stderr } = await runEchokit(loadArgs, { timeoutMs });
    const seconds = (performance.now() - started) / 1000;
    const json = await Deno.readTextFile(`${dir}/r.json`).catch((err) => {
      throw new Error(
        `load wrote no JSON (exit code ${code} after ${seconds.toFixed(1)} s; ` +
          `a run still going after ${timeoutMs} ms is killed):\n${stderr}`,
        { cause: err },
      );
    });
    const doc = JSON.parse(json);
    const lines = (await Deno.readTextFile(`${dir}/r.jtl`)).split("\n");
    assert.equal(lines.at(-1), "", "the JTL ends with a whole row");
    const header = splitJtlRow(lines[0]);
    const success = header.indexOf("success");
    const message = header.indexOf("responseMessage");
    const stamp = header.indexOf("timeStamp");
    const rows = lines.slice(1, -1).map((line) => {
      const f = splitJtlRow(line);
      assert.equal(f.length, header.length, line);
      const ok = f[success] === "true";
      return {
        success: ok,
        kind: ok ? undefined : jtlKind(f[message]),
        timeStamp: Number(f[stamp]),
      };
    });
    const last = stdout.split("\n").filter((l) => l.startsWith("summary =")).at(-1);
    assert.ok(last, `no "summary =" line in:\n${stdout}\n${stderr}`);
    const parsed = parseSummaryLine(last)!;
    return {
      code,
      stdout,
      stderr,
      seconds,
      doc,
      rows,
      summary: { count: parsed.count, errors: parsed.errors },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The same count, kind by kind, in the JSON, the JTL and `summary =`. */
function assertErrorsAgree(run: LoadRun): void {
  const fromJtl: Record<string, number> = {};
  for (const row of run.rows) if (row.kind) fromJtl[row.kind] = (fromJtl[row.kind] ?? 0) + 1;
  const fromJson = Object.fromEntries(
    Object.entries(run.doc.errorsByKind).filter(([, n]) => n > 0),
  );
  assert.deepEqual(fromJtl, fromJson, "JTL and JSON disagree on error kinds");
  assert.equal(run.rows.length, run.doc.samples, "JTL rows vs JSON samples");
  assert.equal(run.summary.count, run.doc.samples, "summary = count vs JSON samples");
  assert.equal(run.summary.errors, run.doc.errors, "summary = Err vs JSON errors");
}

const TIMEOUTS = ["--connect-timeout", "300ms", "--response-timeout", "300ms"];

const CASES: {
  behaviour: string;
  args: string[];
  expect: (run: LoadRun) => void;
  /** Longest the run may take, s: its timeouts times its samples, plus start-up. */
  within: number;
}[] = [
  {
    behaviour: "silent",
    args: ["--threads", "4", "--loops", "3", ...TIMEOUTS],
    expect: (r) => assert.deepEqual(r.doc.errorsByKind, { timeout: 12 }),
    within: 3 * 0.3 + 15,
  },
  {
    behaviour: "no-accept",
    args: ["--threads", "4", "--loops", "2", ...TIMEOUTS],
    expect: (r) => assert.deepEqual(r.doc.errorsByKind, { timeout: 8 }),
    within: 2 * 0.3 + 15,
  },
  {
    behaviour: "wrong",
    args: ["--threads", "3", "--loops", "5", ...TIMEOUTS],
    expect: (r) => assert.deepEqual(r.doc.errorsByKind, { mismatch: 15 }),
    within: 15,
  },
  {
    behaviour: "half-stall",
    args: ["--threads", "3", "--loops", "2", ...TIMEOUTS],
    expect: (r) => assert.deepEqual(r.doc.errorsByKind, { timeout: 6 }),
    within: 2 * 0.3 + 15,
  },
  {
    // Each connection serves 2 samples and closes: the third sample on it
    // fails with EOF, and the thread reconnects for the next loop.
    behaviour: "close-after:2",
    args: ["--threads", "2", "--loops", "9", ...TIMEOUTS],
    expect: (r) => {
      assert.deepEqual(r.doc.errorsByKind, { eof: 6 });
      assert.equal(r.doc.samples - r.doc.errors, 12);
    },
    within: 15,
  },
  {
    // Each connection answers 2 samples, then stalls without closing: the
    // third sample, on the reused connection, must time out (then the thread
    // reconnects), so every thread meets 2 timeouts in 6 loops.
    behaviour: "stall-after:2",
    args: ["--threads", "2", "--loops", "6", ...TIMEOUTS],
    expect: (r) => {
      assert.deepEqual(r.doc.errorsByKind, { timeout: 4 });
      assert.equal(r.doc.samples - r.doc.errors, 8);
    },
    within: 2 * 0.3 + 15,
  },
  {
    // Each echo comes with as many unasked bytes in the same write. They are
    // the start of the next sample's response, as a recv reads them from the
    // socket, so every second sample is a mismatch (which closes, and the
    // thread reconnects): none is dropped by an engine reading ahead. `--rate`
    // spaces the samples, so the bytes also arrive between samples.
    behaviour: "extra:64",
    args: ["--threads", "2", "--loops", "6", "--message-size", "64", "--rate", "40", ...TIMEOUTS],
    expect: (r) => {
      assert.deepEqual(r.doc.errorsByKind, { mismatch: 6 });
      assert.equal(r.doc.samples - r.doc.errors, 6);
    },
    within: 15,
  },
  {
    // Half a message unasked after each echo: the next sample reads it and
    // half its own echo (a mismatch, which closes), and the other half of
    // that echo must go with the connection, not into the next one's sample.
    behaviour: "extra:32",
    args: ["--threads", "2", "--loops", "6", "--message-size", "64", "--rate", "40", ...TIMEOUTS],
    expect: (r) => {
      assert.deepEqual(r.doc.errorsByKind, { mismatch: 6 });
      assert.equal(r.doc.samples - r.doc.errors, 6);
    },
    within: 15,
  },
  {
    behaviour: "reset",
    args: ["--threads", "3", "--loops", "4", ...TIMEOUTS],
    expect: (r) => assert.deepEqual(r.doc.errorsByKind, { reset: 12 }),
    within: 15,
  },
];

// The default engine (uring where io_uring is allowed, else poll or async),
// then poll by name where the default was uring.
const URING_REFUSED = ioUringUnavailableReason();
if (URING_REFUSED !== undefined) console.log(`no --engine uring cases: ${URING_REFUSED}`);
const ENGINE_ARGS: string[][] = [
  [],
  ...(URING_REFUSED === undefined ? [["--engine", "poll"]] : []),
];

for (const c of CASES) {
  for (const engine of ENGINE_ARGS) {
    Deno.test({
      name: `load ${
        engine.join(" ")
      } against a ${c.behaviour} server counts every sample as the right error`
        .replace("load  ", "load "),
      sanitizeResources: false,
      async fn() {
        const server = await startHostile(c.behaviour);
        try {
          // A hang past the limit is killed (and then fails) rather than waited out.
          const run = await runLoad(
            server.addr.port,
            [...c.args, ...engine],
            (c.within + 5) * 1000,
          );
          assert.equal(run.code, 0, run.stderr);
          c.expect(run);
          assertErrorsAgree(run);
          assert.ok(run.seconds < c.within, `took ${run.seconds.toFixed(1)} s`);
        } finally {
          await server.stop();
        }
      },
    });
  }
}

Deno.test({
  name: "load against a server killed mid-run counts resets, EOFs and refusals and ends on time",
  sanitizeResources: false,
  async fn() {
    const server = await startServerProcess({ mode: "stream" });
    const killer = setTimeout(() => Deno.kill(server.pid, "SIGKILL"), 1500);
    try {
      const run = await runLoad(server.addr.port, [
        "--threads",
        "4",
        "--loops",
        "infinite",
        "--duration",
        "3s",
        ...TIMEOUTS,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assertErrorsAgree(run);
      const kinds = run.doc.errorsByKind;
      assert.ok((kinds.refused ?? 0) > 0, `no refused samples: ${JSON.stringify(kinds)}`);
      const other = Object.keys(kinds).filter((k) =>
        !["refused", "reset", "eof", "timeout"].includes(k) && kinds[k] > 0
      );
      assert.deepEqual(other, [], `unexpected kinds: ${JSON.stringify(kinds)}`);
      assert.ok(run.doc.samples - run.doc.errors > 0, "no sample succeeded before the kill");
      assert.ok(run.seconds < 3 + 15, `took ${run.seconds.toFixed(1)} s`);
    } finally {
      clearTimeout(killer);
      await server.stop(100);
    }
  },
});

Deno.test({
  name:
    "load --jtl-timestamps: intended keeps the --rate schedule, actual the send times behind it",
  sanitizeResources: false,
  async fn() {
    // One connection, each echo 60 ms late, asked for 100/s: sends fall behind the schedule.
    const server = await startHostile("delay:60");
    try {
      const span = async (stamps: string[]) => {
        const args = ["--threads", "1", "--loops", "8", "--rate", "100", ...stamps];
        const run = await runLoad(server.addr.port, args);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.rows.length, 8);
        const t = run.rows.map((r) => r.timeStamp);
        return Math.max(...t) - Math.min(...t);
      };
      // Intended: 8 starts 10 ms apart (70 ms); actual: each send waits for the last echo.
      const intended = await span([]);
      assert.equal(await span(["--jtl-timestamps", "intended"]), intended);
      assert.ok(intended <= 80, `intended timeStamps span ${intended} ms`);
      const actual = await span(["--jtl-timestamps", "actual"]);
      assert.ok(actual >= 7 * 60 * 0.9, `actual timeStamps span ${actual} ms`);
    } finally {
      await server.stop();
    }
  },
});
