/**
 * The map from every command line of the documents to how it is exercised:
 * run by `readme_test.ts` (as written, or cut down in the way the entry spells
 * out) or named with the test that runs it. One table, one entry per
 * documented command, so it is longer than the house's 500 lines: splitting
 * it by page would scatter the one list a reader checks a command against.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { JTL_HEADER } from "../loadgen/jtl.ts";
import {
  assertRan,
  echoes,
  hasCommand,
  once,
  type Ran,
  ROOT,
  run,
  serveAndEcho,
  serving,
  withStreamServer,
} from "./_doc_run.ts";
import { shellWords } from "./_doc_blocks.ts";
import { parse as parseYaml } from "yaml";

/** The server's CPU as `load` prints it: a figure where `/proc` exists, else `n/a` (macOS). */
const SERVER_CPU = Deno.build.os === "linux" ? "server CPU \\d" : "server CPU (?:\\d|n/a)";

/** What a step gets: the command's argv after the map's changes, and a folder of its own. */
export interface Context {
  argv: string[];
  dir: string;
  /** The README's comment lines under the command. */
  after: string[];
}

/** A command run by this file. */
export interface RunHere {
  /** Flag values replaced: `{dir}` is the step's folder, `{tiny}` a 4-thread plan. */
  set?: Record<string, string>;
  /** Words appended (cut-down sizes, a test file). */
  add?: string[];
  /** Why the run differs from the README's, when it does. */
  why?: string;
  /** The comment lines under the command are its output: checked by shape or exactly. */
  shows?: "shape" | "exact";
  /** Programs the command needs; the step is skipped (not failed) without them. */
  tools?: string[];
  /** Runs it and checks what it printed; returns the output `shows` checks. */
  run(ctx: Context): Promise<Ran>;
}

/** Where a command run elsewhere is run: a file, and in it a test by name. */
export interface Place {
  file: string;
  /** The `Deno.test` name; absent: the whole file (a workflow, a CI script). */
  test?: string;
  /** Text that test (or the file) must contain: the subcommand, flags, values. */
  needs: string[];
}

/** A command run by another test or by CI, checked to still be there. */
export interface RunElsewhere {
  where: Place[];
  /** README flags the places do not use, and why. */
  differs?: Record<string, string>;
  why: string;
}

export type Exercise = RunHere | RunElsewhere;

export const isHere = (e: Exercise): e is RunHere => "run" in e;

/** A plan small enough for every compare cut-down: 4 threads × 50 loops, no ramp-up. */
export const TINY_PLAN = { name: "tiny", threads: 4, loops: 50, rampUp: 0 };

/** The headline table of a compare run, with one column per server. */
export function assertCompareTable(stdout: string, servers: string[], scenarios: string[]): void {
  assert.match(stdout, /^summary = \(JMeter figures; median-rate run per cell\)$/m);
  for (const server of servers) {
    assert.match(stdout, new RegExp(`^${server.replace(/\+/g, "\\+")} +\\d+`, "m"), server);
  }
  for (const s of scenarios) assert.ok(stdout.includes(`\n${s} — `), `a table for ${s}`);
}

export async function checksum(argv: string[]): Promise<Ran> {
  const dir = await Deno.makeTempDir();
  try {
    for (const t of ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin"]) {
      await Deno.writeTextFile(join(dir, `echokit-${t}`), `binary for ${t}\n`);
    }
    // As release.yml writes it (shasum's output is the same), then as a user has it: one
    // binary beside the sums.
    const sums = hasCommand("sha256sum") ? "sha256sum" : "shasum -a 256";
    assertRan(await run(["sh", "-c", `${sums} echokit-* > SHA256SUMS`], { cwd: dir }), "sums");
    await Deno.remove(join(dir, "echokit-aarch64-apple-darwin"));
    const ok = await run(argv, { cwd: dir });
    assertRan(ok, argv[0]);
    assert.match(ok.stdout, /^echokit-x86_64-unknown-linux-gnu: OK$/m);
    await Deno.writeTextFile(join(dir, "echokit-x86_64-unknown-linux-gnu"), "tampered\n");
    assert.notEqual((await run(argv, { cwd: dir })).code, 0, "a tampered binary fails");
    return ok;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A fresh clone of this repository (its committed HEAD), as a new user gets it. */
export const freshClone = once(async () => {
  const dir = await Deno.makeTempDir({ prefix: "echokit_clone_" });
  cleanups.push(() => Deno.remove(dir, { recursive: true }));
  const line = "git clone <this repository> echokit && cd echokit";
  const r = await run(["sh", "-c", line.replace("<this repository>", `'${ROOT}'`) + " && pwd"], {
    cwd: dir,
  });
  assertRan(r, "git clone");
  return { dir: join(dir, "echokit"), ran: r };
});

export const IS_GIT_CHECKOUT = (() => {
  try {
    return Deno.statSync(join(ROOT, ".git")) !== undefined && hasCommand("git");
  } catch {
    return false;
  }
})();

export const cleanups: (() => Promise<unknown>)[] = [];

/** The load run the Output formats section shows, shared by its two commands. */
export const OUTPUT_LOAD =
  "deno run -A mod.ts load --spawn stream --threads 2 --loops 5 --jtl run.jtl " +
  "--json run.json";

/** Every command line of the README, and how it is exercised. */
export const EXERCISED: Record<string, Exercise> = {
  // Quick start
  "npx -y deno@2.9.6 task compare": {
    add: ["--mode", "stream", "--scale", "0.002"],
    why: "the full run (~2–3 min) is run by the lead before each stop; here one mode at 0.002 " +
      "of the default plans' loops, through the same npx deno and task",
    tools: ["npx"],
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "npx deno task compare");
      assertCompareTable(r.stdout, ["stream"], ["plan1", "plan2"]);
      assert.match(r.stdout, /^plan1 +4000 in \d\d:\d\d:\d\d = /m);
      return r;
    },
  },
  "npx -y deno@2.9.6 task ok": {
    where: [{ file: ".ci/run", needs: ["\nnpx -y deno@2.9.6 task ok "] }],
    why: "CI's test command, verbatim (.ci/run), which the lead also runs before each stop",
  },

  // Install
  "git clone <this repository> echokit && cd echokit": {
    why: "clones this repository's committed HEAD into a temporary folder",
    tools: ["git"],
    async run() {
      const { dir, ran } = await freshClone();
      assert.equal(ran.stdout.trim(), dir);
      for (const f of ["README.md", "deno.json", "deno.lock", "mod.ts"]) {
        assert.ok((await Deno.stat(join(dir, f))).isFile, `${f} is in the clone`);
      }
      return ran;
    },
  },
  "npx -y deno@2.9.6 task serve --port 0": {
    why: "run in the fresh clone of the line above (or here when this is not a git checkout)",
    tools: ["npx"],
    async run({ argv }) {
      const cwd = IS_GIT_CHECKOUT ? (await freshClone()).dir : ROOT;
      return await serveAndEcho(argv, { cwd });
    },
  },
  "deno task serve --port 0": { run: ({ argv }) => serveAndEcho(argv) },
  "deno run -A mod.ts --help": {
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "--help");
      for (const sub of ["serve", "load", "compare", "plans"]) {
        assert.match(r.stdout, new RegExp(`^  ${sub} +\\S`, "m"), `--help lists ${sub}`);
      }
      return r;
    },
  },
  "sha256sum -c SHA256SUMS --ignore-missing": {
    why: "against a SHA256SUMS written as release.yml writes it, one binary downloaded",
    tools: ["sha256sum"],
    run: ({ argv }) => checksum(argv),
  },
  "shasum -a 256 -c SHA256SUMS --ignore-missing": {
    why: "against a SHA256SUMS written as release.yml writes it, one binary downloaded",
    tools: ["shasum"],
    run: ({ argv }) => checksum(argv),
  },
  "chmod +x echokit-x86_64-unknown-linux-gnu": {
    where: [{
      file: ".github/workflows/release.yml",
      needs: ['chmod +x "dist/echokit-${{ matrix.target }}"'],
    }],
    why: "no release binary can be built here (no denort); the release's smoke job does it",
  },
  "./echokit-x86_64-unknown-linux-gnu --version": {
    where: [
      {
        file: ".github/workflows/release.yml",
        needs: ['tools/compile.ts --smoke "dist/echokit-${{ matrix.target }}"'],
      },
      { file: "tools/compile_smoke.ts", needs: ['"--version"'] },
      {
        file: "tools/compile_test.ts",
        test: "smokeTest() passes for a working echokit: version, then each mode serves and echoes",
        needs: ["smokeTest(echokitArgv([])"],
      },
    ],
    why: "the smoke test (tools/compile_smoke.ts) runs --version first, on the release binary in " +
      "release.yml and on echokit from source in tools/compile_test.ts",
  },
  "deno task compile": {
    where: [
      {
        file: "tools/compile_test.ts",
        test:
          "deno task compile without DENORT_BIN, a runtime cache or dl.deno.land exits 1 quickly, saying what to do",
        needs: ["await task([],"],
      },
      { file: "tools/compile_test.ts", needs: ['args: ["task", "--quiet", "compile", ...args]'] },
    ],
    why: "no denort can be downloaded here: the test checks the clear exit 1",
  },
  "deno task compile --target all": {
    where: [
      {
        file: "tools/compile_test.ts",
        test:
          "deno task compile --target all --dry-run prints one deno compile line per release target",
        needs: ['task(["--target", "all", "--dry-run"]'],
      },
      { file: ".github/workflows/release.yml", needs: ["run: deno task compile --target all\n"] },
    ],
    why: "release.yml runs it as written; without denort the test adds --dry-run",
  },
  "deno task compile --dry-run": {
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compile --dry-run");
      assert.match(r.stdout.trim(), /^deno compile --allow-net .* --output dist\/echokit mod\.ts$/);
      return r;
    },
  },
  "DENORT_BIN=/path/to/denort deno task compile": {
    where: [{
      file: "tools/compile_test.ts",
      test:
        "deno task compile runs the real deno compile, and the smoke test rejects a binary not built on denort",
      needs: ["DENORT_BIN: Deno.execPath()"],
    }],
    why: "the deno binary stands in for a denort (none can be downloaded here), into a temporary " +
      "--out-dir, --no-smoke",
  },

  // Serve
  "deno run -A mod.ts serve --mode stream --port 7000": {
    set: { "--port": "0" },
    why: "port 0: tests never take a fixed port",
    shows: "shape",
    run: ({ argv }) => serveAndEcho(argv),
  },
  [`python3 -c "import socket; s=socket.create_connection(('127.0.0.1',7000)); s.sendall(b'hi\\n'); print(s.recv(9))"`]:
    {
      why: "against a stream server on port 0, its port put in place of 7000",
      tools: ["python3"],
      async run({ argv }) {
        let ran: Ran | undefined;
        await withStreamServer(async ({ port }) => {
          assert.ok(argv[2].includes(",7000)"));
          ran = await run([argv[0], argv[1], argv[2].replace(",7000)", `,${port})`)]);
        });
        assertRan(ran!, "python3");
        assert.equal(ran!.stdout, "b'hi\\n'\n");
        return ran!;
      },
    },
  "deno run -A mod.ts serve --mode stream --port 7000 --stats-interval 5 --stats-json server.json":
    {
      set: { "--port": "0", "--stats-interval": "0.2", "--stats-json": "{dir}/server.json" },
      why: "port 0, a line every 0.2 s instead of 5 s, the file in a temporary folder",
      shows: "shape",
      async run({ argv, dir }) {
        const r = await serving(argv, async ({ port, waitFor }) => {
          await echoes(port);
          await waitFor(/^stats-interval .* accepted=1 /);
        });
        const series = JSON.parse(await Deno.readTextFile(join(dir, "server.json")));
        assert.equal(series.mode, "stream");
        assert.ok(series.samples.length >= 1, "the series has samples");
        return r;
      },
    },

  // Permissions per mode
  "deno run --allow-net=127.0.0.1 mod.ts serve --mode stream --port 0": {
    run: ({ argv }) => serveAndEcho(argv),
  },
  "deno run --allow-net mod.ts serve --mode protocol --port 0": {
    run: ({ argv }) => serveAndEcho(argv),
  },
  "deno run --allow-ffi --allow-read=. mod.ts serve --mode nonblocking --port 0": {
    run: ({ argv }) => serveAndEcho(argv),
  },
  "deno run --allow-net --allow-ffi --allow-read=. --allow-run --allow-sys --allow-env mod.ts load --spawn stream --threads 2 --loops 5":
    {
      shows: "shape",
      async run({ argv }) {
        const r = await run(argv);
        assertRan(r, "load without -A");
        return r;
      },
    },

  // Load
  "deno task plan2": {
    add: ["--loops", "200"],
    why: "200 loops instead of 20000",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "deno task plan2");
      assert.match(
        r.stdout,
        new RegExp(`^summary = +20000 in \\d\\d:\\d\\d:\\d\\d = .* \\| ${SERVER_CPU}`, "m"),
      );
      assert.match(r.stdout, /plan2 \(100 threads × 200 loops, ramp-up 1 s\) .*\(nonblocking, pid/);
      return r;
    },
  },
  "deno run -A mod.ts load --plan plan1 --spawn stream": {
    add: ["--threads", "100", "--loops", "10"],
    why: "100 threads × 10 loops instead of 1000 × 2000",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "load --plan plan1");
      assert.match(r.stdout, /^summary = +1000 in /m);
      assert.match(r.stdout, /plan1 \(100 threads × 10 loops, ramp-up 1 s\) .*\(stream, pid/);
      return r;
    },
  },
  "deno run -A mod.ts load --plan plan2 --host 127.0.0.1 --port 7000 --pid 12345": {
    set: { "--port": "{port}", "--pid": "{pid}" },
    add: ["--loops", "50"],
    why: "against a stream server on port 0 and its pid, 50 loops instead of 20000",
    async run({ argv }) {
      let ran: Ran | undefined;
      await withStreamServer(async ({ port, pid }) => {
        ran = await run(
          argv.map((a) => a === "{port}" ? String(port) : a === "{pid}" ? String(pid) : a),
        );
        assertRan(ran, "load --pid");
        assert.match(ran.stdout, new RegExp(`^summary = +5000 in .* \\| ${SERVER_CPU}`, "m"));
        assert.ok(ran.stdout.includes(`→ 127.0.0.1:${port} (pid ${pid})`), ran.stdout);
      });
      return ran!;
    },
  },

  // Plans and JMeter .jmx files
  "deno run -A mod.ts plans": {
    shows: "exact",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "plans");
      return r;
    },
  },
  "deno run -A mod.ts load --plan fixtures/echo_tcp.plan.json --spawn stream --loops 100": {
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "load --plan .json");
      assert.match(r.stdout, /^summary = +10000 in .* Err: +0 /m);
      assert.match(r.stdout, /Echo TCP plan 2 \(100 threads × 100 loops, ramp-up 1 s\)/);
      return r;
    },
  },
  "deno run -A mod.ts load --plan fixtures/echo_tcp.jmx --spawn nonblocking --threads 10 --loops 100":
    {
      async run({ argv }) {
        const r = await run(argv);
        assertRan(r, "load --plan .jmx");
        assert.match(r.stdout, /^summary = +1000 in .* Err: +0 /m);
        assert.match(r.stdout, /Echo TCP plan 2 \(10 threads × 100 loops, ramp-up 1 s\)/);
        // The README quotes this warning.
        assert.match(
          r.stderr,
          /^warning: Ignored <ResultCollector "Summary Report"> \(line 51\)$/m,
        );
        return r;
      },
    },

  // Compare
  "deno task compare": {
    add: ["--mode", "stream", "--scale", "0.002"],
    why: "the full run (~2–3 min) is run by the lead before each stop; here one mode at 0.002 " +
      "of the default plans' loops",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compare");
      assertCompareTable(r.stdout, ["stream"], ["plan1", "plan2"]);
      assert.match(r.stdout, /^plan1 — 1000 connections × 4 loops$/m);
      return r;
    },
  },
  "deno task compare --full": {
    add: ["--mode", "stream", "--plan", "{tiny}"],
    why: "full size of a 4 × 50 plan instead of plan1 and plan2, one mode",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compare --full");
      assertCompareTable(r.stdout, ["stream"], ["tiny"]);
      assert.match(r.stdout, /^tiny — 4 connections × 50 loops$/m);
      return r;
    },
  },
  "deno task compare --quick": {
    add: ["--mode", "nonblocking"],
    why: "one mode",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compare --quick");
      assertCompareTable(r.stdout, ["nonblocking"], ["plan1", "plan2"]);
      assert.match(r.stdout, /^plan2 — 100 connections × 400 loops$/m);
      return r;
    },
  },
  "deno task compare --peer python --peer node-net": {
    add: ["--mode", "stream", "--plan", "{tiny}", "--scale", "0.2"],
    why: "one mode and the peers on a 4 × 10 plan",
    tools: ["python3", "node"],
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compare --peer");
      const peers = ["py-streams", "py-protocol", "py-threaded", "py-selectors", "node-net"];
      assertCompareTable(r.stdout, ["stream", ...peers], ["tiny"]);
      return r;
    },
  },
  "deno task compare --connections 10,100,1000,10000": {
    set: { "--connections": "10,100" },
    add: ["--mode", "nonblocking", "--scale", "0.001"],
    why: "levels 10 and 100 of plan2 at 0.001, one mode",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compare --connections");
      assertCompareTable(r.stdout, ["nonblocking"], ["plan2 · 10 conns", "plan2 · 100 conns"]);
      return r;
    },
  },
  "deno task compare --repeat 3 --out report/": {
    set: { "--out": "{dir}/report/" },
    add: ["--mode", "stream", "--plan", "{tiny}", "--scale", "0.2"],
    why: "one mode on a 4 × 10 plan, the report in a temporary folder",
    async run({ argv, dir }) {
      const r = await run(argv);
      assertRan(r, "compare --repeat --out");
      assertCompareTable(r.stdout, ["stream"], ["tiny"]);
      assert.match(r.stdout, /^stream +\d+ ±\d+%/m, "medians with their spread");
      const files = (await Array.fromAsync(Deno.readDir(join(dir, "report")))).map((e) => e.name);
      for (const f of ["report.md", "report.html", "results.csv", "results.json"]) {
        assert.ok(files.includes(f), `${f} in ${files}`);
      }
      assert.ok(files.some((f) => f.endsWith(".svg")), `an SVG chart in ${files}`);
      return r;
    },
  },

  // Output formats
  [OUTPUT_LOAD]: {
    set: { "--jtl": "{dir}/run.jtl", "--json": "{dir}/run.json" },
    why: "the files in a temporary folder",
    async run({ argv, dir }) {
      const r = await run(argv);
      assertRan(r, "load --jtl --json");
      const jtl = (await Deno.readTextFile(join(dir, "run.jtl"))).trimEnd().split("\n");
      assert.equal(jtl.length, 1 + 10, "the header and one row per sample");
      const doc = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
      assert.equal(doc.schema, "echokit/load-result");
      assert.equal(doc.samples, 10);
      assert.match(doc.summary, /^summary = +10 in /);
      assert.equal(typeof doc.latency.histogram, "string");
      return r;
    },
  },
  "head -n 1 run.jtl": {
    why: "on the run.jtl of the command above, run the same way in a temporary folder",
    shows: "exact",
    async run({ argv, dir }) {
      const files = ["run.jtl", "run.json"];
      const load = shellWords(OUTPUT_LOAD).map((w) => files.includes(w) ? join(dir, w) : w);
      assertRan(await run(load), "the load writing run.jtl");
      const r = await run(argv, { cwd: dir });
      assertRan(r, "head");
      assert.equal(r.stdout, JTL_HEADER + "\n");
      return r;
    },
  },
  "deno task compare --quick --format markdown": {
    add: ["--mode", "stream"],
    why: "one mode",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "compare --format markdown");
      assert.match(r.stdout, /^# echokit compare — stream$/m);
      assert.match(r.stdout, /^\*\*summary = \(JMeter figures; median-rate run per cell\)\*\*$/m);
      assert.match(r.stdout, /^\| plan2 \| 40000 in \d\d:\d\d:\d\d = /m);
      return r;
    },
  },

  // When the handler does work
  "deno task compare --plan plan2 --scale 0.002 --work sleep:10ms,cpu:1ms --offload none,threads,processes":
    {
      set: { "--plan": "{tiny}", "--scale": "0.1" },
      add: ["--mode", "stream"],
      why: "a 4 × 5 plan instead of plan2's 100 × 40, stream and its two pools only",
      async run({ argv }) {
        const r = await run(argv);
        assertRan(r, "compare --work --offload");
        assertCompareTable(r.stdout, ["stream", "stream+threads", "stream+processes"], [
          "tiny · sleep:10ms",
          "tiny · cpu:1ms",
        ]);
        return r;
      },
    },

  // Several load hosts
  "echokit serve --mode nonblocking --host 10.0.0.5 --port 7000 --stats-interval 5 --stats-json server.json":
    {
      set: {
        "--host": "127.0.0.1",
        "--port": "0",
        "--stats-interval": "0.2",
        "--stats-json": "{dir}/server.json",
      },
      why: "on 127.0.0.1 port 0 (tests reach no other address), a line every 0.2 s, the file in " +
        "a temporary folder",
      async run({ argv, dir }) {
        const r = await serving(argv, async ({ port, waitFor }) => {
          await echoes(port);
          await waitFor(/^stats-interval time=\S+ cpu=[\d.]+% rss=[\d.]+MiB .* accepted=1 /);
        });
        const series = JSON.parse(await Deno.readTextFile(join(dir, "server.json")));
        assert.equal(series.mode, "nonblocking");
        return r;
      },
    },
  "echokit load --host 10.0.0.5 --port 7000 --plan plan2 --json hostA.json --jtl hostA.jtl --jtl-thread-prefix hostA":
    {
      where: [{
        file: "cli/compare_merge_test.ts",
        test: "compare merge combines two load hosts that ran at the same time",
        needs: ['"load"', '"--port"', '"--json"', '"--jtl"', '"--jtl-thread-prefix"'],
      }],
      differs: {
        "--host": "the test's hosts reach the server on 127.0.0.1, the default",
        "--plan": "plan2 is the default plan, which the test cuts to --threads 5 --loops 300",
      },
      why: "two such loads at once (hostA, hostB) against a server with --stats-json",
    },
  "echokit compare merge hostA.json hostB.json --server-stats server.json": {
    where: [{
      file: "cli/compare_merge_test.ts",
      test: "compare merge combines two load hosts that ran at the same time",
      needs: [
        '"compare"',
        '"merge"',
        'file("hostA.json")',
        'file("hostB.json")',
        '"--server-stats"',
      ],
    }],
    why: "on the files of the two loads above and the server's series",
  },

  // Known limits
  "deno run -A mod.ts serve --mode blocking --host ::1 --port 0": {
    shows: "exact",
    async run({ argv }) {
      const r = await run(argv);
      assert.equal(r.code, 2, r.stderr);
      return r;
    },
  },
  "deno run -A mod.ts serve --mode nonblocking --offload threads --port 0": {
    shows: "exact",
    async run({ argv }) {
      const r = await run(argv);
      assert.equal(r.code, 2, r.stderr);
      return r;
    },
  },

  // Kubernetes (README: Several load hosts)
  "docker build -f deploy/Dockerfile -t echokit:dev .": {
    where: [{
      file: "tools/k8s_render_test.ts",
      test: "deploy/Dockerfile builds from the official Deno image and runs the CLI",
      needs: ["deploy/Dockerfile"],
    }],
    why: "no Docker and no registry here: the test reads the Dockerfile (base image, the CLI as " +
      "entry point, every Worker module cached)",
  },
  "kubectl apply -f deploy/k8s/server.yaml": {
    where: [{
      file: "tools/k8s_render_test.ts",
      test: "deploy/k8s/server.yaml runs serve --processes behind a Service on its port",
      needs: ["server.yaml", "SERVE_FLAGS"],
    }],
    why: "no cluster here: the test parses the manifest with yaml and its args with serve's flags",
  },
  "deno task k8s:render --segments 4 --lead 60s | kubectl apply -f -": {
    why: "the render runs here; kubectl does not (no cluster): its input is parsed instead",
    async run({ argv }) {
      const r = await run(argv.slice(0, argv.indexOf("|")));
      assertRan(r, "deno task k8s:render");
      const job = parseYaml(r.stdout) as {
        kind: string;
        spec: { completionMode: string; completions: number; parallelism: number };
      };
      assert.equal(job.kind, "Job");
      assert.equal(job.spec.completionMode, "Indexed");
      assert.equal(job.spec.completions, 4);
      assert.equal(job.spec.parallelism, 4);
      assert.match(r.stdout, /\$\(JOB_COMPLETION_INDEX\)\/4/);
      const start = /--start-at\s*\n\s*- "?([^"\n]+)"?/.exec(r.stdout)?.[1] ?? "";
      const lead = Date.parse(start) - Date.now();
      assert.ok(lead > 30_000 && lead <= 60_000, `--start-at ${start} is ${lead} ms away`);
      return r;
    },
  },
  "kubectl wait --for=condition=complete job/echokit-load --timeout=15m": {
    where: [{
      file: "tools/k8s_render_test.ts",
      test:
        "deploy/k8s/load-job.yaml is an Indexed Job of load segments against the server's Service",
      needs: ["load-job.yaml"],
    }],
    differs: {
      "--for=condition=complete": "kubectl's own wait; nothing here has a cluster",
      "--timeout=15m": "kubectl's own wait; nothing here has a cluster",
    },
    why: "no cluster here: the test checks the Job the command waits for (name, Indexed, N pods)",
  },
  "for i in 0 1 2 3; do kubectl logs -l job-name=echokit-load,batch.kubernetes.io/job-completion-index=$i > seg-$i.json; done":
    {
      where: [{
        file: "tools/k8s_render_test.ts",
        test:
          "deploy/k8s/load-job.yaml is an Indexed Job of load segments against the server's Service",
        needs: ["load-job.yaml"],
      }],
      why:
        "no cluster here: the test checks that each pod's stdout is only its load --json - document",
    },
  "deno run -A mod.ts compare merge seg-0.json seg-1.json seg-2.json seg-3.json": {
    where: [{ file: "bench/segments_test.ts", needs: ["compare", "merge", "segment-"] }],
    differs: { "seg-0.json": "the test's segments are 4 local load --segment processes" },
    why: "the files come from 4 segments; the test makes them locally and merges them",
  },
  "deno task segments": {
    where: [{ file: "bench/segments_test.ts", needs: ["runSegmentsCheck", "segments: 4"] }],
    why: "the task's code, run by its test with 4 segments of plan2",
  },

  // JMeter conformance (docs/jmeter.md)
  "deno run -A tools/jmeter/jmeter.ts": {
    tools: ["jmeter", "javac"],
    why: "needs Debian's jmeter and a JDK; skipped without them, as the conformance suite is",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "tools/jmeter/jmeter.ts");
      assert.match(
        r.stdout,
        /^FORCE_CLASSPATH=\S+:\S+ApacheJMeter\.jar \S*jmeter .* -n -t PLAN\.jmx -l OUT\.jtl$/m,
      );
      return r;
    },
  },
  "deno run -A mod.ts load --spawn stream --threads 2 --loops 50 --rate 200 --jtl run.jtl --jtl-timestamps actual":
    {
      set: { "--jtl": "{dir}/run.jtl" },
      why: "the JTL in a temporary folder",
      async run({ argv, dir }) {
        const r = await run(argv);
        assertRan(r, "load --jtl-timestamps actual");
        assert.match(r.stdout, /^summary = +100 in .* Err: +0 /m);
        const rows = (await Deno.readTextFile(join(dir, "run.jtl"))).split("\n");
        assert.equal(rows.length, 1 + 100 + 1, "header, 100 rows, final newline");
        return r;
      },
    },
  "deno run -A mod.ts load --plan fixtures/jmx/conformance_throughput.jmx --spawn stream -Jthreads=2 -Jloops=5":
    {
      async run({ argv }) {
        const r = await run(argv);
        assertRan(r, "load --plan conformance_throughput.jmx");
        assert.match(r.stdout, /^summary = +10 in .* Err: +0 /m);
        return r;
      },
    },
  "deno test -A tools/jmeter/conformance_test.ts": {
    where: [{ file: "tools/jmeter/conformance_test.ts", needs: ["findJmeter", "runJmeter"] }],
    why: "the suite itself; the full test run (deno task test, .ci/run) runs it",
  },

  // Development
  "deno task ok": {
    add: ["tools/workflows_test.ts"],
    why: "fmt --check, lint and check over the whole tree, then the test step on one file: the " +
      "full suite is what this file is part of (.ci/run runs it through npx)",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "deno task ok");
      assert.match(r.stdout, /^ok \| \d+ passed \| 0 failed/m);
      return r;
    },
  },
  "deno task test": {
    add: ["tools/workflows_test.ts"],
    why: "one test file: the full suite is what this file is part of",
    async run({ argv }) {
      const r = await run(argv);
      assertRan(r, "deno task test");
      assert.match(r.stdout, /^ok \| \d+ passed \| 0 failed/m);
      return r;
    },
  },
};
