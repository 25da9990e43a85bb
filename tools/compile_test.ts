/**
 * The compile configuration and script. None of these needs `deno compile`'s
 * runtime download: the real-compile test uses the `deno` binary itself as
 * DENORT_BIN, which `deno compile` accepts and whose result the smoke test
 * must then reject.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { echokitArgv, freePort, startServerProcess } from "../servers/child.ts";
import { compileArgv, outputPath, parseCompileArgs } from "./compile.ts";
import { findRuntimeLoads, uncoveredLoads } from "./compile_includes.ts";
import { checkEcho, smokeTest } from "./compile_smoke.ts";
import { INCLUDE_MODULES, includeList, PERMISSIONS, RELEASE_TARGETS } from "./compile_config.ts";

const ROOT_URL = new URL("../", import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);
const HOSTILE = fileURLToPath(new URL("fixtures/hostile_server.ts", ROOT_URL));

async function task(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "compile", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - started,
  };
}

// The environment without DENORT_BIN, so a developer's own setting cannot leak in.
function baseEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  return env;
}

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
}

Deno.test("compileArgv() bakes in permissions, embeds every include, names the target's output", () => {
  assert.deepEqual(
    compileArgv({ target: "aarch64-unknown-linux-gnu", include: ["servers/os/_w.ts", "a.json"] }),
    [
      "compile",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-run",
      "--allow-ffi",
      "--unstable-net",
      "--include",
      "servers/os/_w.ts",
      "--include",
      "a.json",
      "--target",
      "aarch64-unknown-linux-gnu",
      "--output",
      "dist/echokit-aarch64-unknown-linux-gnu",
      "mod.ts",
    ],
  );
});

Deno.test("compileArgv() without a target builds dist/echokit for this machine with INCLUDE_MODULES", () => {
  const argv = compileArgv();
  assert.ok(!argv.includes("--target"));
  assert.deepEqual(argv.slice(-3), ["--output", "dist/echokit", "mod.ts"]);
  const included = argv.flatMap((a, i) => argv[i - 1] === "--include" ? [a] : []);
  assert.deepEqual(included, [...INCLUDE_MODULES]);
  assert.deepEqual(argv.slice(1, 1 + PERMISSIONS.length), [...PERMISSIONS]);
  assert.ok(!argv.includes("--allow-all") && !argv.includes("-A"), "no blanket -A");
});

Deno.test("outputPath() appends the target and honours an output folder", () => {
  assert.equal(outputPath(), "dist/echokit");
  assert.equal(
    outputPath("x86_64-apple-darwin", "/tmp/out"),
    "/tmp/out/echokit-x86_64-apple-darwin",
  );
});

Deno.test("parseCompileArgs() expands --target all to the four release targets", () => {
  assert.deepEqual(parseCompileArgs([]).targets, [undefined]);
  assert.deepEqual(parseCompileArgs(["--target", "all"]).targets, [...RELEASE_TARGETS]);
  assert.deepEqual(RELEASE_TARGETS, [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
  ]);
  assert.deepEqual(parseCompileArgs(["--target=x86_64-apple-darwin", "--dry-run"]), {
    targets: ["x86_64-apple-darwin"],
    dryRun: true,
    noSmoke: false,
  });
});

Deno.test("parseCompileArgs() rejects an unknown target or flag naming it", () => {
  assert.throws(() => parseCompileArgs(["--target", "x86_64-pc-windows-msvc"]), {
    name: "UsageError",
    message:
      /^Invalid --target "x86_64-pc-windows-msvc" \(use x86_64-unknown-linux-gnu, .* or all\)$/,
  });
  assert.throws(() => parseCompileArgs(["--fast"]), { message: "Unknown option '--fast'" });
  assert.throws(() => parseCompileArgs(["--target"]), {
    message: "Option '--target' needs a value",
  });
});

Deno.test("includeList() turns URLs and paths into sorted repository-relative paths", () => {
  const root = new URL("file:///repo/");
  assert.deepEqual(
    includeList(
      [
        new URL("file:///repo/servers/os/_worker.ts"),
        "file:///repo/loadgen/_vu_worker.ts",
        "./servers/os/_worker.ts",
        "fixtures/plans/plan1.json",
      ],
      root,
    ),
    ["fixtures/plans/plan1.json", "loadgen/_vu_worker.ts", "servers/os/_worker.ts"],
  );
  assert.throws(() => includeList(["../outside.ts"], root), /outside the repository/);
  assert.throws(() => includeList(["https://example.com/w.ts"], root), /not a local file/);
});

Deno.test("findRuntimeLoads() finds Worker modules and assets by URL, and flags what cannot be embedded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTree(dir, {
      "servers/os/blocking.ts": `
const worker = new Worker(
  new URL("./_blocking_worker.ts", import.meta.url),
  { type: "module" },
);
const root = new URL("../", import.meta.url);
`,
      "loadgen/run.ts":
        `export const LOADGEN_WORKER_MODULES = [new URL('./_vu_worker.ts', import.meta.url).href];
const plan = await Deno.readTextFile(new URL("../fixtures/plan.json", import.meta.url));`,
      "loadgen/bad.ts": "const w = new Worker(new URL(`./${name}.ts`, import.meta.url));\n" +
        'const v = new Worker("./relative.ts", { type: "module" });\n',
      "loadgen/run_test.ts": 'new Worker(new URL("./test_only_worker.ts", import.meta.url));',
      "loadgen/jtl_bench.ts": 'new URL("../fixtures/bench_only.py", import.meta.url);',
      "bench/bench.ts": 'new URL("../fixtures/bench_only.py", import.meta.url);',
      "loadgen/jmx.ts": `/**
 * @example
 * const text = await Deno.readTextFile(new URL("../fixtures/echo_tcp.jmx", import.meta.url));
 */
// new Worker(new URL("./commented_out.ts", import.meta.url));
export const x = 1;`,
      "tools/build.ts": 'new Worker(new URL("./build_worker.ts", import.meta.url));',
    });
    const loads = await findRuntimeLoads(new URL(`file://${dir}/`));
    assert.deepEqual(
      loads.map((l) => [l.file, l.line, l.resolved ?? l.problem]),
      [
        ["loadgen/bad.ts", 1, "a computed URL cannot be embedded; use a string literal"],
        ["loadgen/bad.ts", 2, 'start Workers with new Worker(new URL("…", import.meta.url))'],
        ["loadgen/run.ts", 1, "loadgen/_vu_worker.ts"],
        ["loadgen/run.ts", 2, "fixtures/plan.json"],
        ["servers/os/blocking.ts", 3, "servers/os/_blocking_worker.ts"],
      ],
    );
    const covered = [
      "fixtures/plan.json",
      "loadgen/_vu_worker.ts",
      "servers/os/_blocking_worker.ts",
    ];
    assert.deepEqual(uncoveredLoads(loads, covered).map((l) => l.line), [1, 2]);
    assert.deepEqual(
      uncoveredLoads(loads, covered.slice(1)).map((l) => l.resolved ?? l.file),
      ["loadgen/bad.ts", "loadgen/bad.ts", "fixtures/plan.json"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("INCLUDE_MODULES covers every file the source loads at run time, and each one exists", async () => {
  const loads = await findRuntimeLoads();
  const uncovered = uncoveredLoads(loads);
  assert.deepEqual(
    uncovered.map((l) => `${l.file}:${l.line} ${l.specifier} ${l.problem ?? ""}`),
    [],
    "add these to tools/compile_config.ts",
  );
  for (const path of INCLUDE_MODULES) {
    assert.ok((await Deno.stat(new URL(path, ROOT_URL))).isFile, `${path} is not a file`);
  }
});

Deno.test("deno task compile without DENORT_BIN, a runtime cache or dl.deno.land exits 1 quickly, saying what to do", async () => {
  // A Deno cache without the dl/ folder (npm packages and remote modules kept,
  // so the script itself runs offline), and every request sent to a closed
  // port on 127.0.0.1 (so the probe fails the same way on any machine).
  const realDir = JSON.parse(
    new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
    ),
  ).denoDir;
  const denoDir = await Deno.makeTempDir();
  try {
    for (const sub of ["npm", "remote"]) {
      await Deno.symlink(join(realDir, sub), join(denoDir, sub)).catch(() => {});
    }
    const proxy = `http://127.0.0.1:${await freePort()}`;
    const r = await task([], {
      ...baseEnv(),
      DENO_DIR: denoDir,
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      NO_PROXY: "",
    });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.match(
      lines.at(-1)!,
      /^error: deno compile needs the denort runtime, which it downloads from dl\.deno\.land; this machine cannot reach it \(.+\)\. Set DENORT_BIN=\/path\/to\/denort .* then run deno task compile again$/,
    );
    assert.ok(lines.at(-1)!.includes(join(denoDir, "dl", "release", `v${Deno.version.deno}`)));
    assert.ok(r.ms < 60_000, `took ${r.ms} ms`);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("deno task compile with a DENORT_BIN that does not exist exits 1 naming it", async () => {
  const r = await task([], { ...baseEnv(), DENORT_BIN: "/no/such/denort" });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: DENORT_BIN "\/no\/such\/denort" is not a file \(point it at the denort .* binary for /m,
  );
});

Deno.test("deno task compile --target all with DENORT_BIN exits 2: one runtime cannot build four targets", async () => {
  const r = await task(["--target", "all"], { ...baseEnv(), DENORT_BIN: Deno.execPath() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot build --target all/);
});

Deno.test("deno task compile --target all --dry-run prints one deno compile line per release target", async () => {
  const r = await task(["--target", "all", "--dry-run"], baseEnv());
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(
    lines,
    RELEASE_TARGETS.map((t) => ["deno", ...compileArgv({ target: t })].join(" ")),
  );
});

Deno.test("deno task compile runs the real deno compile, and the smoke test rejects a binary not built on denort", async () => {
  // `deno` itself is accepted by `deno compile` as a base binary, but it
  // ignores the embedded program: exactly the mistake the smoke test exists for.
  const outDir = await Deno.makeTempDir();
  try {
    const built = await task(["--out-dir", outDir, "--no-smoke"], {
      ...baseEnv(),
      DENORT_BIN: Deno.execPath(),
    });
    assert.equal(built.code, 0, built.stderr);
    const binary = join(outDir, "echokit");
    assert.equal(built.stdout.trim(), binary);
    assert.ok((await Deno.stat(binary)).isFile);
    assert.match(built.stderr, /compiling .*echokit \(denort: DENORT_BIN /);

    const smoked = await task(["--smoke", binary], baseEnv());
    assert.equal(smoked.code, 1, smoked.stderr);
    assert.match(
      smoked.stderr,
      /--version" printed "deno \d.*not "echokit .*is DENORT_BIN a denort binary/,
    );
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("smokeTest() passes for a working echokit: version, then each mode serves and echoes", async () => {
  await smokeTest(echokitArgv([]), { modes: ["stream", "protocol"] });
});

Deno.test("smokeTest() rejects a program that does not print echokit's version", async () => {
  await assert.rejects(
    smokeTest([Deno.execPath()], { modes: [] }),
    { name: "EchokitError", message: /--version" printed "deno / },
  );
});

/** Starts fixtures/hostile_server.ts with a behaviour, as a real process on 127.0.0.1. */
function hostile(behaviour: string) {
  return startServerProcess({
    name: `hostile ${behaviour}`,
    command: [Deno.execPath(), "run", "-A", HOSTILE, "--behaviour", behaviour, "--port", "{port}"],
    readyTimeout: 30_000,
  });
}

Deno.test("checkEcho() gives up on a server that accepts and never answers, within its deadline", async () => {
  const server = await hostile("silent");
  try {
    const started = performance.now();
    // Were the read unbounded, this fails the test instead of hanging it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("checkEcho() still waiting after 20 s")), 20_000);
    });
    try {
      await assert.rejects(
        Promise.race([checkEcho(server.addr.port, { name: "silent", timeoutMs: 1000 }), hung]),
        { name: "EchokitError", message: "silent did not echo the message within 1 s" },
      );
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - started;
    assert.ok(ms >= 900, `gave up after ${ms.toFixed(0)} ms, before its deadline`);
    // The server took the connection: the wait was for the echo, not the connect.
    assert.match(server.stdout(), /^accepted \d+$/m);
  } finally {
    await server.stop();
  }
});

Deno.test("checkEcho() rejects wrong bytes and passes a real echo", async () => {
  const wrong = await hostile("wrong");
  try {
    await assert.rejects(checkEcho(wrong.addr.port, { name: "wrong", timeoutMs: 10_000 }), {
      name: "EchokitError",
      message: "wrong did not echo the message (different bytes came back)",
    });
  } finally {
    await wrong.stop();
  }
  const echo = await hostile("echo");
  try {
    await checkEcho(echo.addr.port, { timeoutMs: 10_000 });
  } finally {
    await echo.stop();
  }
});
