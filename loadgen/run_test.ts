import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EchokitError } from "../util/errors.ts";
import { ioUringUnavailableReason, NO_MULTISHOT_RECV_ENV } from "../servers/os/io_uring.ts";
import { freePort, type ServerProcess, startServerProcess } from "../servers/child.ts";
import type { EngineName } from "./_engine_types.ts";
import { splitJtlRow } from "./jtl.ts";
import { fairnessOf, planMessage, runLoad } from "./run.ts";
import { parseSummaryLine } from "./summary_line.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import type { Plan } from "./types.ts";

const HOSTILE = fileURLToPath(new URL("../fixtures/hostile_server.ts", import.meta.url));

function plan(overrides: Partial<Plan>): Plan {
  return { ...BUILTIN_PLANS.plan2, name: "test", rampUp: 0.2, ...overrides };
}

/** Starts fixtures/hostile_server.ts, e.g. `hostile("delay:30")`. */
function hostile(behaviour: string): Promise<ServerProcess> {
  return startServerProcess({
    command: [Deno.execPath(), "run", "-A", HOSTILE, "--behaviour", behaviour, "--port", "{port}"],
    name: `hostile-${behaviour}`,
  });
}

async function withServer<T>(
  start: () => Promise<ServerProcess>,
  fn: (s: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

// uring joins where io_uring is allowed; elsewhere its cases are skipped, saying why.
const URING_REFUSED = ioUringUnavailableReason();
if (URING_REFUSED !== undefined) console.log(`skipping the uring engine: ${URING_REFUSED}`);
const ENGINES: EngineName[] = URING_REFUSED === undefined
  ? ["poll", "uring", "async"]
  : ["poll", "async"];

for (const engine of ENGINES) {
  Deno.test(`runLoad() with the ${engine} engine completes every sample against the stream server`, async () => {
    const lines: string[] = [];
    const r = await runLoad({
      plan: plan({ threads: 20, loops: 150 }),
      spawn: "stream",
      engine,
      workers: engine === "async" ? 1 : 2,
      onLine: (l) => lines.push(l),
    });
    assert.equal(r.samples, 3000);
    assert.equal(r.errors, 0);
    assert.equal(r.interrupted, false);
    assert.equal(r.target.mode, "stream");
    // A short run prints only the final total line, as JMeter does.
    const last = parseSummaryLine(lines.at(-1)!);
    assert.equal(last?.type, "=");
    assert.equal(last?.count, 3000);
    assert.match(lines.at(-1)!, / \| server CPU [\d.]+% RSS [\d.]+MiB VSZ [\d.]+MiB \| gen CPU /);
    assert.ok(r.latency.p50Us > 0 && r.latency.p50Us <= r.latency.p99Us);
    assert.ok(r.latency.p99Us <= r.latency.p999Us);
    assert.ok(r.server && r.server.peakRssBytes > 0, "server memory sampled");
    assert.ok(r.generator.peakRssBytes > 0);
    // Loop-bound threads end with equal totals; any window is within the total.
    assert.ok(r.fairness.max <= 150 && r.fairness.min >= 0);
  });
}

Deno.test("runLoad() measures a known server delay: min and avg are at least the delay", async () => {
  await withServer(() => hostile("delay:30"), async (s) => {
    for (const engine of ENGINES) {
      const r = await runLoad({
        plan: plan({ threads: 5, loops: 10 }),
        hostname: "127.0.0.1",
        port: s.addr.port,
        pid: s.pid,
        engine,
      });
      assert.equal(r.samples, 50, engine);
      assert.equal(r.errors, 0, engine);
      assert.ok(r.latency.minMs >= 30, `${engine}: min ${r.latency.minMs} ms`);
      assert.ok(r.latency.avgMs >= 30, `${engine}: avg ${r.latency.avgMs} ms`);
      assert.ok(r.latency.p50Us >= 30_000, `${engine}: p50 ${r.latency.p50Us} µs`);
      assert.ok(r.latency.avgMs < 1000, `${engine}: avg ${r.latency.avgMs} ms`);
    }
  });
});

Deno.test("runLoad() counts dropped connections as eof errors and reconnects (onError continue)", async () => {
  await withServer(() => hostile("close-after:5"), async (s) => {
    for (const engine of ENGINES) {
      const r = await runLoad({
        plan: plan({ threads: 4, loops: 30 }),
        hostname: "127.0.0.1",
        port: s.addr.port,
        engine,
      });
      assert.equal(r.samples, 120, engine);
      // Every 6th sample meets a closed connection: 5 per thread.
      assert.equal(r.errors, 20, `${engine}: ${JSON.stringify(r.errorsByKind)}`);
      assert.equal((r.errorsByKind.eof ?? 0) + (r.errorsByKind.reset ?? 0), 20, engine);
    }
  });
});

Deno.test("runLoad() with onError stopTest stops the whole test at the first failure", async () => {
  await withServer(() => hostile("close-after:3"), async (s) => {
    const r = await runLoad({
      plan: plan({ threads: 3, loops: 100, onError: "stopTest" }),
      hostname: "127.0.0.1",
      port: s.addr.port,
    });
    assert.equal(r.interrupted, true);
    assert.ok(r.errors >= 1);
    assert.ok(r.samples < 300);
  });
});

Deno.test("runLoad() reports a response timeout as a timeout error", async () => {
  await withServer(() => hostile("delay:400"), async (s) => {
    for (const engine of ENGINES) {
      const r = await runLoad({
        plan: plan({ threads: 2, loops: 2, responseTimeout: 100 }),
        hostname: "127.0.0.1",
        port: s.addr.port,
        engine,
      });
      assert.equal(r.samples, 4, engine);
      assert.equal(r.errorsByKind.timeout, 4, `${engine}: ${JSON.stringify(r.errorsByKind)}`);
      assert.ok(r.latency.minMs >= 100 && r.latency.maxMs < 400, engine);
    }
  });
});

Deno.test("runLoad() times out a stalled sample on a reused (keep-alive) connection", async () => {
  // Each connection answers 2 samples, then stalls without closing: samples
  // 3 and 6 of every thread go out on a reused connection and must time out.
  await withServer(() => hostile("stall-after:2"), async (s) => {
    for (const engine of ENGINES) {
      // Bounds the test if a stalled sample never times out.
      const controller = new AbortController();
      const guard = setTimeout(() => controller.abort(), 8000);
      const t0 = performance.now();
      try {
        const r = await runLoad({
          plan: plan({ threads: 2, loops: 6, responseTimeout: 200, rampUp: 0 }),
          hostname: "127.0.0.1",
          port: s.addr.port,
          engine,
          signal: controller.signal,
        });
        const took = performance.now() - t0;
        assert.equal(r.interrupted, false, `${engine}: stopped by the guard after ${took} ms`);
        assert.equal(r.samples, 12, engine);
        assert.equal(r.errors, 4, `${engine}: ${JSON.stringify(r.errorsByKind)}`);
        assert.deepEqual(r.errorsByKind, { timeout: 4 }, engine);
        // A timed-out sample lasts the response timeout, not much longer.
        assert.ok(
          r.latency.maxMs >= 200 && r.latency.maxMs < 1500,
          `${engine}: ${r.latency.maxMs}`,
        );
        // Two timeouts in a row per thread, plus start-up: well under the guard.
        assert.ok(took < 6000, `${engine}: took ${took} ms`);
      } finally {
        clearTimeout(guard);
      }
    }
  });
});

Deno.test("runLoad() measures Connect from the connect call, not from the open model's intended start", async () => {
  // Open model, a new connection per sample, a server slower than the pace:
  // each sample starts later than intended (elapsed rightly counts that lag,
  // ~200 ms more per sample), but connecting over loopback takes about 0 ms.
  const path = await Deno.makeTempFile({ suffix: ".jtl" });
  try {
    await withServer(() => hostile("delay:300"), async (s) => {
      for (const engine of ENGINES) {
        const r = await runLoad({
          plan: plan({ threads: 1, loops: 5, rampUp: 0, reuseConnection: false }),
          hostname: "127.0.0.1",
          port: s.addr.port,
          engine,
          rate: 10,
          jtl: path,
        });
        assert.equal(r.samples, 5, engine);
        assert.equal(r.errors, 0, `${engine}: ${JSON.stringify(r.errorsByKind)}`);
        const [header, ...rows] = (await Deno.readTextFile(path)).trimEnd().split("\n");
        const col = (name: string) => splitJtlRow(header).indexOf(name);
        const [elapsed, connect] = [col("elapsed"), col("Connect")];
        const figures = rows.map((row) => splitJtlRow(row)).map((f) => ({
          elapsed: Number(f[elapsed]),
          connect: Number(f[connect]),
        }));
        assert.equal(figures.length, 5, engine);
        // The lag is real (so the test can tell the two starts apart)...
        assert.ok(figures.at(-1)!.elapsed >= 700, `${engine}: ${JSON.stringify(figures)}`);
        // ...and is not connect time.
        for (const f of figures) {
          assert.ok(f.connect < 150, `${engine}: ${JSON.stringify(figures)}`);
        }
      }
    });
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("runLoad() in JMeter EOL mode ends each response at the EOL byte", async () => {
  for (const engine of ENGINES) {
    const r = await runLoad({
      plan: plan({ threads: 4, loops: 50, eolByte: 10, messageSize: 100 }),
      spawn: "protocol",
      engine,
    });
    assert.equal(r.samples, 200, engine);
    assert.equal(r.errors, 0, engine);
  }
});

Deno.test({
  name:
    "runLoad() with the uring engine's one-shot recvs (a kernel before 6.0) completes every sample",
  ignore: URING_REFUSED !== undefined,
  async fn() {
    Deno.env.set(NO_MULTISHOT_RECV_ENV, "1");
    try {
      for (const eolByte of [undefined, 10]) {
        const r = await runLoad({
          plan: plan({ threads: 8, loops: 100, eolByte, messageSize: 100 }),
          spawn: "stream",
          engine: "uring",
        });
        assert.equal(r.samples, 800, `eolByte ${eolByte}`);
        assert.equal(r.errors, 0, `eolByte ${eolByte}`);
      }
    } finally {
      Deno.env.delete(NO_MULTISHOT_RECV_ENV);
    }
  },
});

Deno.test("runLoad() says so when nothing listens on the target", async () => {
  const port = await freePort();
  await assert.rejects(
    () => runLoad({ plan: plan({ threads: 1, loops: 1 }), hostname: "127.0.0.1", port }),
    (err: Error) =>
      err instanceof EchokitError &&
      err.message ===
        `Nothing is listening on 127.0.0.1:${port} (start one with \`deno task serve\` or pass --spawn MODE)`,
  );
});

Deno.test("runLoad() excludes the warm-up from the figures and reports it apart", async () => {
  const dir = await Deno.makeTempDir();
  await withServer(() => startServerProcess({ mode: "stream" }), async (s) => {
    const r = await runLoad({
      plan: plan({ threads: 4, loops: -1, duration: 1.6, rampUp: 0 }),
      hostname: "127.0.0.1",
      port: s.addr.port,
      warmupSeconds: 0.8,
      rate: 200,
      jtl: `${dir}/r.jtl`,
    });
    // The JTL holds the measured samples; the warm-up ones are in r.warmup.jtl.
    const rowsOf = async (f: string) =>
      (await Deno.readTextFile(`${dir}/${f}`)).trim().split("\n").slice(1);
    const measured = await rowsOf("r.jtl");
    const warm = await rowsOf("r.warmup.jtl");
    assert.equal(measured.length, r.samples);
    assert.equal(warm.length, r.warmup?.samples);
    const cut = r.startTime;
    assert.ok(
      warm.every((row) => Number(row.split(",")[0]) < cut),
      "warm-up rows start before the cut",
    );
    assert.ok(
      measured.every((row) => Number(row.split(",")[0]) >= cut - 1),
      "measured rows start after it",
    );
    assert.ok(r.warmup);
    assert.equal(r.warmup.seconds, 0.8);
    assert.ok(r.warmup.samples > 50, `warm-up samples ${r.warmup.samples}`);
    assert.ok(r.samples > 50, `measured samples ${r.samples}`);
    // The open model paces 200/s: about 160 warm-up plus 160 measured samples.
    assert.ok(r.warmup.samples + r.samples <= 340, `total ${r.warmup.samples + r.samples}`);
    assert.ok(r.openModel && r.openModel.requestedRate === 200);
    assert.ok(
      r.openModel.achievedRate > 120 && r.openModel.achievedRate < 280,
      `achieved ${r.openModel.achievedRate}`,
    );
  });
  await Deno.remove(dir, { recursive: true });
});

for (const engine of ENGINES.filter((e) => e !== "async")) {
  Deno.test(`runLoad() with the ${engine} engine writes a JTL row per sample with JMeter's 17 columns`, async () => {
    const path = await Deno.makeTempFile({ suffix: ".jtl" });
    try {
      await withServer(() => hostile("close-after:4"), async (s) => {
        const r = await runLoad({
          plan: plan({ threads: 3, loops: 10 }),
          hostname: "127.0.0.1",
          port: s.addr.port,
          jtl: path,
          engine,
        });
        const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
        assert.equal(
          lines[0],
          "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success," +
            "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect",
        );
        assert.equal(lines.length - 1, r.samples);
        const failures = lines.filter((l) => l.includes(",500,"));
        assert.equal(failures.length, r.errors);
        assert.match(
          failures[0],
          /^\d{13},\d+,TCP Sampler,500,"java\.io\.EOFException: Connection closed by server, bytes read: 0",Thread Group 1-\d,text,false,,0,0,\d+,\d+,null,\d+,0,\d+$/,
        );
        for (const line of lines.slice(1)) {
          if (line.includes(",200,")) {
            assert.match(
              line,
              /^\d{13},\d+,TCP Sampler,200,OK,Thread Group 1-[1-3],text,true,,64,0,\d+,\d+,null,\d+,0,\d+$/,
            );
          }
        }
      });
    } finally {
      await Deno.remove(path);
    }
  });
}

Deno.test("runLoad() stops gracefully on abort and still reports", async () => {
  const controller = new AbortController();
  const lines: string[] = [];
  const r = await runLoad({
    plan: plan({ threads: 10, loops: -1, duration: 30 }),
    spawn: "stream",
    signal: controller.signal,
    onLine: (l) => lines.push(l),
    // Abort once sampling is under way (the server's start-up time varies).
    onProgress: (p) => {
      if (p.samples > 0) setTimeout(() => controller.abort(), 200);
    },
  });
  assert.equal(r.interrupted, true);
  assert.ok(r.samples > 0);
  assert.equal(parseSummaryLine(lines.at(-1)!)?.count, r.samples);
});

Deno.test("fairnessOf() gives min, p5, median, p95 and max of per-connection counts", () => {
  const counts = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual(fairnessOf(counts), { min: 1, p5: 5, median: 50, p95: 95, max: 100 });
  assert.deepEqual(fairnessOf([]), { min: 0, p5: 0, median: 0, p95: 0, max: 0 });
});

Deno.test("planMessage() builds messageSize bytes ending in a newline", () => {
  const m = planMessage(plan({ messageSize: 10 }));
  assert.equal(m.length, 10);
  assert.equal(m[9], 10);
  assert.equal(new TextDecoder().decode(planMessage(plan({}))), BUILTIN_PLANS.plan2.message);
});

Deno.test("runLoad() on abort drops samples stuck on a silent server after a grace period", async () => {
  await withServer(() => hostile("silent"), async (s) => {
    for (const engine of ENGINES) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const t0 = Date.now();
      const r = await runLoad({
        plan: plan({ threads: 3, loops: 5 }),
        hostname: "127.0.0.1",
        port: s.addr.port,
        engine,
        signal: controller.signal,
      });
      const took = Date.now() - t0;
      assert.equal(r.interrupted, true, engine);
      assert.equal(r.samples, 0, engine);
      assert.ok(took < 6000, `${engine}: took ${took} ms`);
    }
  });
});

for (const engine of ENGINES.filter((e) => e !== "async")) {
  Deno.test(`runLoad() with the ${engine} engine keeps --rate's intended starts over a --duration`, async () => {
    await withServer(() => startServerProcess({ mode: "stream" }), async (s) => {
      const r = await runLoad({
        plan: plan({ threads: 4, loops: -1, duration: 1, rampUp: 0 }),
        hostname: "127.0.0.1",
        port: s.addr.port,
        rate: 100,
        engine,
      });
      // 100/s for 1 s: at most 100 intended starts (one per thread at 0 ms, then every
      // 40 ms); the lower bound leaves room for a busy machine's start-up.
      assert.equal(r.errors, 0, JSON.stringify(r.errorsByKind));
      assert.ok(r.samples >= 50 && r.samples <= 100, `${engine}: ${r.samples} samples`);
    });
  });
}

Deno.test("runLoad() with the uring engine where io_uring is refused fails naming the reason", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "load", "--spawn", "stream", "--engine", "uring", "--loops", "1"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ECHOKIT_IO_URING_DISABLED: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr).trim().split("\n");
  assert.equal(code, 1);
  assert.match(
    text.at(-1)!,
    /--engine uring: io_uring is unavailable: ECHOKIT_IO_URING_DISABLED=1$/,
  );
});

Deno.test("runLoad() with the default engine where io_uring is refused falls back to poll and says why", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "load", "--spawn", "stream", "--loops", "1", "--threads", "2"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ECHOKIT_IO_URING_DISABLED: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  const want = Deno.build.os === "linux"
    ? "engine: poll (uring unavailable: ECHOKIT_IO_URING_DISABLED=1)"
    : "engine: async";
  assert.ok(text.includes(want), text);
});
