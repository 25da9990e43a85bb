/**
 * `compare merge` as a multi-host user meets it: one real `stream` server with
 * `--stats-json`, two `load --json --jtl` processes run against it at the same
 * time as two "hosts" on loopback, then the merge of their files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { echokitArgv, startServerProcess } from "../servers/child.ts";
import { loadLatencyHistogram } from "../loadgen/histogram.ts";
import { parseJsonDocument } from "../loadgen/report.ts";
import { JTL_HEADER } from "../loadgen/jtl.ts";
import type { LoadResult } from "../loadgen/types.ts";
import type { CompareReport } from "../compare/types.ts";

async function echokit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] = echokitArgv(args);
  const out = await new Deno.Command(cmd, { args: rest, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const THREADS = 5;
const LOOPS = 300;

Deno.test("compare merge combines two load hosts that ran at the same time", async (t) => {
  const dir = await Deno.makeTempDir();
  const file = (name: string) => join(dir, name);
  try {
    const server = await startServerProcess({
      mode: "stream",
      args: ["--stats-interval", "0.2", "--stats-json", file("serve.json")],
    });
    let loads;
    try {
      const host = (name: string) =>
        echokit([
          "load",
          "--port",
          String(server.addr.port),
          "--threads",
          String(THREADS),
          "--loops",
          String(LOOPS),
          "--engine",
          "async",
          "--json",
          file(`${name}.json`),
          "--jtl",
          file(`${name}.jtl`),
          "--jtl-thread-prefix",
          name,
        ]);
      loads = await Promise.all([host("hostA"), host("hostB")]);
    } finally {
      // SIGTERM: serve writes its --stats-json series on the way out.
      const status = await server.stop();
      assert.equal(status.code, 0, server.stderr());
    }
    for (const load of loads) assert.equal(load.code, 0, load.stderr);
    const read = async (name: string): Promise<LoadResult> =>
      parseJsonDocument(await Deno.readTextFile(file(name)), name);
    const a = await read("hostA.json");
    const b = await read("hostB.json");

    await t.step("counts sum and percentiles come from the merged histogram", async () => {
      const out = await echokit([
        "compare",
        "merge",
        file("hostA.json"),
        file("hostB.json"),
        "--server-stats",
        file("serve.json"),
        "--format",
        "json",
      ]);
      assert.equal(out.code, 0, out.stderr);
      const report: CompareReport = JSON.parse(out.stdout);
      assert.deepEqual(report.servers.map((s) => s.name), ["hostA", "hostB", "merged"]);
      const merged = report.runs.find((r) => r.server === "merged")!.result!;

      assert.equal(merged.samples, 2 * THREADS * LOOPS);
      assert.equal(merged.samples, a.samples + b.samples);
      assert.equal(merged.errors, a.errors + b.errors);
      assert.equal(merged.rate, a.rate + b.rate);
      assert.equal(merged.startTime, Math.min(a.startTime, b.startTime));
      assert.equal(merged.endTime, Math.max(a.endTime, b.endTime));
      assert.equal(merged.latency.minMs, Math.min(a.latency.minMs, b.latency.minMs));
      assert.equal(merged.latency.maxMs, Math.max(a.latency.maxMs, b.latency.maxMs));
      assert.equal(
        merged.latency.avgMs,
        Math.trunc((a.latency.sumElapsedMs! + b.latency.sumElapsedMs!) / merged.samples),
      );

      const direct = (await loadLatencyHistogram()).decode(a.latency.histogram!);
      direct.merge((await loadLatencyHistogram()).decode(b.latency.histogram!));
      assert.equal(direct.count, merged.samples);
      assert.equal(merged.latency.p50Us, direct.percentile(50));
      assert.equal(merged.latency.p90Us, direct.percentile(90));
      assert.equal(merged.latency.p99Us, direct.percentile(99));
      assert.equal(merged.latency.p999Us, direct.percentile(99.9));
      assert.equal(merged.latency.meanUs, direct.mean);

      // The server columns come from the server's own series, not from a load host.
      assert.equal(a.server, undefined);
      assert.ok(merged.server!.peakRssBytes > 1024 * 1024, `${merged.server!.peakRssBytes}`);
      assert.ok(Number.isFinite(merged.server!.cpuPercentMean));
      const cell = report.cells.find((c) => c.server === "merged")!;
      assert.equal(cell.ratio, 1);
      assert.equal(cell.headline!.count, merged.samples);
    });

    await t.step("the table shows a column per host and the merged summary = line", async () => {
      const out = await echokit(["compare", "merge", file("hostA.json"), file("hostB.json")]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^echokit compare — hostA, hostB, merged$/m);
      assert.match(
        out.stdout,
        new RegExp(`note: merged: summary = +${2 * THREADS * LOOPS} in 00:00:\\d\\d = `),
      );
      assert.match(out.stdout, /^merged +\d+ +1\.00×/m);
      assert.match(out.stdout, /server CPU\/RSS not known \(add --server-stats FILE/);
    });

    await t.step(
      "JTLs concatenated with the header once keep each host's threads apart",
      async () => {
        const jtlA = (await Deno.readTextFile(file("hostA.jtl"))).trimEnd().split("\n");
        const jtlB = (await Deno.readTextFile(file("hostB.jtl"))).trimEnd().split("\n");
        assert.equal(jtlA[0], JTL_HEADER);
        const all = [jtlA[0], ...jtlA.slice(1), ...jtlB.slice(1)];
        const rows = all.slice(1);
        assert.equal(rows.length, 2 * THREADS * LOOPS);
        const columns = JTL_HEADER.split(",");
        const thread = columns.indexOf("threadName");
        const groups = new Map<string, Set<string>>();
        for (const row of rows) {
          const fields = row.split(",");
          assert.equal(fields.length, columns.length, row);
          const name = fields[thread];
          // JMeter's dashboard keys a thread's series by the text before the last space.
          const key = name.slice(0, name.lastIndexOf(" "));
          groups.set(key, (groups.get(key) ?? new Set()).add(name));
        }
        assert.deepEqual([...groups.keys()].sort(), ["hostA-Thread Group", "hostB-Thread Group"]);
        const names = [...groups.values()].flatMap((s) => [...s]);
        assert.equal(new Set(names).size, 2 * THREADS, "no thread name is shared by two hosts");
      },
    );

    await t.step("bad inputs exit 2 naming the file", async () => {
      const doc = JSON.parse(await Deno.readTextFile(file("hostA.json")));
      const write = async (name: string, value: unknown) => {
        await Deno.writeTextFile(
          file(name),
          typeof value === "string" ? value : JSON.stringify(value),
        );
        return file(name);
      };
      const other = await write("other.json", { ...doc, plan: { ...doc.plan, threads: 7 } });
      const old = await write("old.json", {
        ...doc,
        latency: { ...doc.latency, histogram: undefined },
      });
      const broken = await write("broken.json", "{ not json");
      const later = JSON.parse(await Deno.readTextFile(file("serve.json")));
      later.samples = later.samples.map((s: { time: number }) => ({ ...s, time: s.time + 864e5 }));
      const skewed = await write("skewed.json", later);
      const cases: [string[], RegExp][] = [
        [[file("hostA.json"), other], /Plans differ: ".*other\.json" ran threads 7/],
        [[file("hostA.json"), old], /".*old\.json" has no latency histogram/],
        [[broken], /Cannot read ".*broken\.json": not JSON/],
        [[file("missing.json")], /Cannot read load result ".*missing\.json": no such file/],
        [
          [file("serve.json")],
          /Cannot read ".*serve\.json": schema "echokit\/serve-stats" is not "echokit\/load-result"/,
        ],
        [
          [file("hostA.json"), "--server-stats", file("hostB.json")],
          /Cannot read --server-stats ".*hostB\.json": not a series written by serve/,
        ],
        [
          [file("hostA.json"), "--server-stats", skewed],
          /The --server-stats series ".*skewed\.json" covers /,
        ],
        [[], /Nothing to merge/],
        [[file("hostA.json"), "--format", "xml"], /Invalid --format "xml"/],
      ];
      for (const [args, message] of cases) {
        const out = await echokit(["compare", "merge", ...args]);
        assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
        assert.match(out.stderr, message);
        assert.equal(out.stdout, "");
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
