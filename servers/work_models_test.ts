/**
 * `--work`, `--offload` and `--processes` against real server processes over
 * loopback: the work really happens, blocking work stalls an event loop and
 * offloading removes the stall (measured), processes share the port.
 */
import assert from "node:assert/strict";
import { descendants } from "./process_tree.ts";
import { echokitArgv, startServerProcess } from "./child.ts";
import { connectLocal, cpuSeconds, roundTrip } from "./testing.ts";
import type { Mode } from "./types.ts";

/** Modes that implement `--work` and `--reuse-port`. */
export const WORK_MODES: readonly Mode[] = ["stream", "protocol", "blocking", "nonblocking"];
/** Modes that implement `--offload` (the event-loop ones). */
export const OFFLOAD_MODES: readonly Mode[] = ["stream", "protocol"];

/**
 * Extra flags so a `blocking` server has its threads before the test starts:
 * the tests measure the work, not Worker start-up.
 */
function prespawn(mode: Mode, threads: number): string[] {
  return mode === "blocking" ? ["--prespawn", String(threads)] : [];
}

const encoder = new TextEncoder();

/** Sends one message and returns the round trip in ms, checking the echo. */
async function timedRoundTrip(conn: Deno.Conn, text: string): Promise<number> {
  const msg = encoder.encode(text);
  const started = performance.now();
  assert.deepEqual(await roundTrip(conn, msg), msg);
  return performance.now() - started;
}

for (const mode of WORK_MODES) {
  Deno.test({
    name: `serve --mode ${mode} --work sleep:20ms answers no round trip in under 20 ms`,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({
        mode,
        args: ["--work", "sleep:20ms", ...prespawn(mode, 3)],
      });
      try {
        const conns = await Promise.all([0, 1, 2].map(() => connectLocal(server.addr.port)));
        const times = (await Promise.all(conns.map(async (conn, c) => {
          const out = [];
          for (let i = 0; i < 10; i++) out.push(await timedRoundTrip(conn, `c${c} m${i}\n`));
          conn.close();
          return out;
        }))).flat();
        assert.ok(Math.min(...times) >= 20, `fastest round trip ${Math.min(...times)} ms`);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
      assert.match(server.stdout(), / workMessages=30\b/);
      assert.match(server.stderr(), /^note: work per message \(one read chunk\): sleep:20ms$/m);
    },
  });

  Deno.test({
    name: `serve --mode ${mode} --work cpu:2ms spends about 2 ms of server CPU per message`,
    ignore: Deno.build.os !== "linux",
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({ mode, args: ["--work", "cpu:2ms"] });
      try {
        const conn = await connectLocal(server.addr.port);
        await timedRoundTrip(conn, "warm-up\n");
        const cpu0 = cpuSeconds(server.pid)!;
        for (let i = 0; i < 200; i++) await timedRoundTrip(conn, `m${i}\n`);
        const cpu = cpuSeconds(server.pid)! - cpu0;
        conn.close();
        // 200 × 2 ms = 0.4 s; the echo itself and runtime threads add a little,
        // 10 ms ticks blur the rest. Calibration can only understate the loop's
        // rate (both of its clocks overstate a slice's CPU), so on a machine
        // busy at start-up the burns run short, never long: CI once measured
        // 0.24 s. Without the work the echo alone costs about 0.02 s.
        assert.ok(cpu >= 0.15 && cpu <= 0.8, `server used ${cpu} s of CPU for 0.4 s of work`);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
      assert.match(server.stderr(), /^note: cpu work: 1 ms = \d+ loop iterations/m);
    },
  });

  // A connection's message blocks for 500 ms; a second connection sends 100
  // ms later. On a stalled loop its reply waits for the first block's
  // remaining 400 ms plus its own 500: at least 900 ms. With a thread per
  // connection, or offloaded to two pool members, both blocks run side by
  // side and it takes about as long as the first: a stall would add 400 ms
  // to it. Comparing the two keeps the test fair on a busy machine, where
  // both slow down alike.
  const offloads = OFFLOAD_MODES.includes(mode) ? [undefined, "threads:2", "processes:2"] : [
    undefined,
  ];
  for (const offload of offloads) {
    const stalls = !offload && mode !== "blocking";
    Deno.test({
      name: `serve --mode ${mode} --work block:500ms ${offload ? `--offload ${offload} ` : ""}${
        stalls ? "stalls" : "keeps serving"
      } a second connection`,
      sanitizeResources: false,
      async fn() {
        const args = [
          "--work",
          "block:500ms",
          ...(offload ? ["--offload", offload] : []),
          ...prespawn(mode, 2),
        ];
        const server = await startServerProcess({ mode, args });
        let first: number, second: number;
        try {
          const [a, b] = await Promise.all([0, 1].map(() => connectLocal(server.addr.port)));
          const firstDone = timedRoundTrip(a, "first\n");
          await new Promise((r) => setTimeout(r, 100));
          second = await timedRoundTrip(b, "second\n");
          first = await firstDone;
          assert.ok(first >= 500, `first round trip ${first} ms`);
          a.close();
          b.close();
        } finally {
          assert.equal((await server.stop()).code, 0);
        }
        if (stalls) {
          assert.ok(second >= 850, `second round trip ${second} ms: not stalled`);
        } else {
          assert.ok(second >= 500, `second round trip ${second} ms`);
          assert.ok(
            second < first + 200,
            `second round trip ${second} ms, first ${first} ms: still stalled`,
          );
        }
        if (offload) assert.match(server.stdout(), / offloadTasks=2 offloadQueueMax=0 /);
      },
    });
  }

  Deno.test({
    name:
      `serve --mode ${mode} --work sleep:300ms serves ten connections at once (a timer does not stall)`,
    sanitizeResources: false,
    async fn() {
      const server = await startServerProcess({
        mode,
        args: ["--work", "sleep:300ms", ...prespawn(mode, 10)],
      });
      try {
        const conns = await Promise.all(
          Array.from({ length: 10 }, () => connectLocal(server.addr.port)),
        );
        const started = performance.now();
        await Promise.all(conns.map((conn, i) => timedRoundTrip(conn, `c${i}\n`)));
        const took = performance.now() - started;
        for (const conn of conns) conn.close();
        // In sequence it would take 3 s.
        assert.ok(took >= 300 && took < 1500, `ten sleeping messages took ${took} ms`);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    },
  });

  Deno.test({
    name: `serve --mode ${mode} --work file:PATH reads the file per message and echoes unchanged`,
    sanitizeResources: false,
    async fn() {
      const path = await Deno.makeTempFile();
      await Deno.writeFile(path, new Uint8Array(4096));
      const server = await startServerProcess({ mode, args: ["--work", `file:${path}`] });
      try {
        const conn = await connectLocal(server.addr.port);
        for (let i = 0; i < 5; i++) await timedRoundTrip(conn, `m${i}\n`);
        conn.close();
      } finally {
        assert.equal((await server.stop()).code, 0);
        await Deno.remove(path);
      }
      assert.match(server.stdout(), / workMessages=5\b/);
    },
  });

  Deno.test({
    name: `serve --mode ${mode} --processes 2 spreads connections over two child processes`,
    ignore: Deno.build.os !== "linux",
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const server = await startServerProcess({ mode, args: ["--processes", "2"] });
      let tree: number[];
      try {
        tree = [server.pid, ...await descendants(server.pid)];
        // The kernel hashes each connection's address pair to a listener; 24
        // connections all landing on one of two has odds of 1 in 8 million.
        const conns = await Promise.all(
          Array.from({ length: 24 }, () => connectLocal(server.addr.port)),
        );
        await Promise.all(conns.map((conn, i) => timedRoundTrip(conn, `c${i}\n`)));
        for (const conn of conns) conn.close();
      } finally {
        assert.equal((await server.stop()).code, 0, server.stderr());
      }
      assert.match(
        server.stdout(),
        new RegExp(`^listening 127\\.0\\.0\\.1:\\d+ mode=${mode} pid=${server.pid}$`, "m"),
      );
      assert.match(server.stdout(), /^stats mode=\w+ accepted=24 .* processes=2$/m);
      const perProcess = [
        ...server.stderr().matchAll(/^process pid=(\d+) stats .*accepted=(\d+)/gm),
      ];
      assert.equal(perProcess.length, 2, server.stderr());
      const pids = perProcess.map((m) => Number(m[1]));
      assert.notEqual(pids[0], pids[1]);
      for (const pid of pids) assert.ok(tree.includes(pid), `${pid} not in ${tree}`);
      for (const m of perProcess) assert.ok(Number(m[2]) > 0, `pid ${m[1]} accepted none`);
      assert.match(server.stderr(), /^note: 2 processes share port \d+ \(SO_REUSEPORT\)/m);
    },
  });
}

Deno.test("serve with a bad --work, --offload or --processes exits 2 naming the value", async () => {
  const cases: [string[], RegExp][] = [
    [["--work", "spin:1ms"], /Invalid --work "spin:1ms" \(use sleep:DURATION/],
    [["--work", "sleep"], /Invalid --work "sleep" \(give a duration: sleep:5ms\)/],
    [["--work", "cpu:0ms"], /Invalid --work "cpu:0ms"/],
    [["--work", "file:/nonexistent/echokit"], /Cannot read --work file "\/nonexistent\/echokit"/],
    [
      ["--offload", "fibers"],
      /Invalid --offload "fibers" \(use threads\[:N\] or processes\[:N\]\)/,
    ],
    [["--offload", "threads:0"], /Invalid --offload "threads:0"/],
    [["--processes", "0"], /Invalid --processes "0"/],
  ];
  cases.push([
    ["--mode", "blocking", "--offload", "threads"],
    /--offload is not available in mode "blocking": each connection already has its own thread/,
  ]);
  for (const [args, message] of cases) {
    const [cmd, ...rest] = echokitArgv(["serve", "--port", "0", ...args]);
    const out = await new Deno.Command(cmd, { args: rest, stdin: "null" }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
  }
});
