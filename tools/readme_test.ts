/**
 * The README, command by command. Every command line of every `sh` block is
 * either run here — as written, or cut down in a way the map below spells
 * out (port 0, smaller plans, output files in a temporary folder) — or named
 * with the test that runs it, and that test is checked to exist and to use
 * the command's flags. A command added to the README without an entry, an
 * entry for a command the README no longer has, or output shown under a
 * command that the command no longer prints, fails this file.
 *
 * In a shell block, `#` lines are never commands. Those directly under a
 * command (no blank line between) are its output, checked against what it
 * prints; a note about the next command follows a blank line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { echokitArgv } from "../servers/child.ts";
import { connectLocal, roundTrip } from "../servers/testing.ts";
import { JTL_HEADER } from "../loadgen/jtl.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Heavy commands run at most this many at a time (2 cores, shared with other test files). */
const CONCURRENCY = 2;
/** Any one process of a run here is killed after this long, so a hang fails the step. */
const PROCESS_TIMEOUT_MS = 90_000;
/** The server's CPU as `load` prints it: a figure where `/proc` exists, else `n/a` (macOS). */
const SERVER_CPU = Deno.build.os === "linux" ? "server CPU \\d" : "server CPU (?:\\d|n/a)";

// ---------------------------------------------------------------------------
// Reading the README

/** One command line of a shell block, with the comment lines right below it. */
interface ReadmeCommand {
  /** The command as typed, continuation lines joined, trailing comment removed. */
  line: string;
  /** The `# …` lines directly after it (its shown output, where the map says so). */
  after: string[];
}

/** A fenced block: its language tag and its lines, indentation removed. */
interface Block {
  lang: string;
  lines: string[];
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^ {${indent}}\`\`\`\\s*$`).test(lines[j])) {
      body.push(lines[j].slice(Math.min(indent, lines[j].length - lines[j].trimStart().length)));
      j++;
    }
    assert.ok(j < lines.length, `README: the block opened on line ${i + 1} is never closed`);
    blocks.push({ lang: open[2], lines: body });
    i = j;
  }
  return blocks;
}

const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);

/** Removes a `# comment` that starts outside quotes after whitespace. */
function stripComment(line: string): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "\\") {
      i++;
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i).trimEnd();
    }
  }
  return line.trimEnd();
}

function readmeCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  for (const block of fencedBlocks(markdown).filter((b) => SHELL_LANGS.has(b.lang))) {
    let last: ReadmeCommand | undefined;
    for (let i = 0; i < block.lines.length; i++) {
      let text = block.lines[i].trim();
      if (text === "") {
        last = undefined;
        continue;
      }
      if (text.startsWith("#")) {
        // Output shown under a command, or a note between commands: never a command.
        last?.after.push(text.replace(/^# ?/, ""));
        continue;
      }
      while (text.endsWith("\\") && i + 1 < block.lines.length) {
        text = text.slice(0, -1).trimEnd() + " " + block.lines[++i].trim();
      }
      last = { line: stripComment(text), after: [] };
      commands.push(last);
    }
  }
  return commands;
}

/** Splits a command line into words as `sh` would (quotes, backslashes; no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = "";
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = "";
      else if (c === "\\" && '"\\$`'.includes(line[i + 1])) word += line[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= "";
      if (c === "'" || c === '"') quote = c;
      else if (c === "\\") word += line[++i];
      else word += c;
    }
  }
  assert.equal(quote, "", `unbalanced quotes in ${JSON.stringify(line)}`);
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * A pattern for a line of output shown in the README: the text literally, any
 * number where it shows one (with any padding before it), anything for "…".
 */
function shapeOf(shown: string): RegExp {
  const parts = shown.split(/(\d+(?:\.\d+)?|…)/);
  const source = parts.map((part, i) => {
    if (i % 2 === 1) return part === "…" ? ".*" : "\\d+(?:\\.\\d+)?";
    return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ +$/, " *");
  }).join("");
  return new RegExp(`^${source}$`);
}

function assertShows(shown: string[], mode: "shape" | "exact", output: string): void {
  assert.ok(shown.length > 0, "the map says this command shows output, but the README shows none");
  const lines = output.split("\n").map((l) => l.trimEnd());
  for (const line of shown) {
    const ok = mode === "exact" ? lines.includes(line) : lines.some((l) => shapeOf(line).test(l));
    assert.ok(ok, `the README shows ${JSON.stringify(line)}, the command printed:\n${output}`);
  }
}

// ---------------------------------------------------------------------------
// Running commands

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The program to start for a README word: this deno for `deno`, echokit's own argv for `echokit`. */
function executable(argv: string[]): string[] {
  if (argv[0] === "deno") return [Deno.execPath(), ...argv.slice(1)];
  if (argv[0] === "echokit") return echokitArgv(argv.slice(1));
  return argv;
}

async function run(
  argv: string[],
  options: { cwd?: string; stdin?: string } = {},
): Promise<Ran> {
  const [cmd, ...args] = executable(argv);
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1" },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

function assertRan(r: Ran, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** A server started by a README command, between its listening line and its stop. */
interface Serving {
  port: number;
  pid: number;
  /** Waits until stdout has a line matching `re`, and returns that line. */
  waitFor(re: RegExp): Promise<string>;
}

/**
 * Runs a command that serves: waits for its `listening` line, hands the
 * server to `body`, then stops it with SIGTERM (to the server's own pid, so a
 * `deno task`/`npx` wrapper ends with it) and expects exit 0.
 */
async function serving(
  argv: string[],
  body: (server: Serving) => Promise<void>,
  options: { cwd?: string } = {},
): Promise<Ran> {
  const [cmd, ...args] = executable(argv);
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let ended = false;
  const waitFor = async (re: RegExp): Promise<string> => {
    const deadline = Date.now() + PROCESS_TIMEOUT_MS;
    while (true) {
      const line = out.split("\n").slice(0, ended ? undefined : -1).find((l) => re.test(l));
      if (line !== undefined) return line;
      if (ended || Date.now() > deadline) {
        assert.fail(`no line matching ${re} in ${JSON.stringify(out)}:\n${await stderr}`);
      }
      const timer = setTimeout(() => reader.cancel("timeout"), deadline - Date.now());
      const { value, done } = await reader.read();
      clearTimeout(timer);
      if (done) ended = true;
      else out += value;
    }
  };
  let pid: number | undefined;
  try {
    const listening = await waitFor(/^listening \S+:\d+ mode=\w+ pid=\d+$/);
    const [, port, serverPid] = /:(\d+) mode=\w+ pid=(\d+)$/.exec(listening)!;
    pid = Number(serverPid);
    await body({ port: Number(port), pid, waitFor });
    Deno.kill(pid, "SIGTERM");
    pid = undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) ended = true;
      else out += value;
    }
    const status = await child.status;
    clearTimeout(timer);
    const result = { code: status.code, stdout: out, stderr: await stderr };
    assert.equal(status.code, 0, `it exits 0 after SIGTERM:\n${result.stderr}`);
    assert.match(out, /^stats mode=\w+ accepted=\d+ active=0 /m, "it prints its final stats");
    return result;
  } finally {
    if (pid !== undefined) Deno.kill(pid, "SIGKILL");
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await reader.cancel().catch(() => {});
    await child.status;
    await stderr;
  }
}

async function echoes(port: number): Promise<void> {
  const conn = await connectLocal(port);
  try {
    const msg = new TextEncoder().encode("readme\n");
    assert.deepEqual(await roundTrip(conn, msg), msg);
  } finally {
    conn.close();
  }
}

/** Serves, echoes one message, stops. */
function serveAndEcho(argv: string[], options: { cwd?: string } = {}): Promise<Ran> {
  return serving(argv, ({ port }) => echoes(port), options);
}

/** Starts a stream server on port 0 for commands that need one to talk to. */
function withStreamServer(body: (server: Serving) => Promise<void>): Promise<Ran> {
  return serving(["echokit", "serve", "--mode", "stream", "--port", "0"], body);
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A value made on first use, then shared: for state two steps need. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

// ---------------------------------------------------------------------------
// The map

/** What a step gets: the command's argv after the map's changes, and a folder of its own. */
interface Context {
  argv: string[];
  dir: string;
  /** The README's comment lines under the command. */
  after: string[];
}

/** A command run by this file. */
interface RunHere {
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
interface Place {
  file: string;
  /** The `Deno.test` name; absent: the whole file (a workflow, a CI script). */
  test?: string;
  /** Text that test (or the file) must contain: the subcommand, flags, values. */
  needs: string[];
}

/** A command run by another test or by CI, checked to still be there. */
interface RunElsewhere {
  where: Place[];
  /** README flags the places do not use, and why. */
  differs?: Record<string, string>;
  why: string;
}

type Exercise = RunHere | RunElsewhere;

const isHere = (e: Exercise): e is RunHere => "run" in e;

/** A plan small enough for every compare cut-down: 4 threads × 50 loops, no ramp-up. */
const TINY_PLAN = { name: "tiny", threads: 4, loops: 50, rampUp: 0 };

/** The headline table of a compare run, with one column per server. */
function assertCompareTable(stdout: string, servers: string[], scenarios: string[]): void {
  assert.match(stdout, /^summary = \(JMeter figures; median-rate run per cell\)$/m);
  for (const server of servers) {
    assert.match(stdout, new RegExp(`^${server.replace(/\+/g, "\\+")} +\\d+`, "m"), server);
  }
  for (const s of scenarios) assert.ok(stdout.includes(`\n${s} — `), `a table for ${s}`);
}

async function checksum(argv: string[]): Promise<Ran> {
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
const freshClone = once(async () => {
  const dir = await Deno.makeTempDir({ prefix: "echokit_clone_" });
  cleanups.push(() => Deno.remove(dir, { recursive: true }));
  const line = "git clone <this repository> echokit && cd echokit";
  const r = await run(["sh", "-c", line.replace("<this repository>", `'${ROOT}'`) + " && pwd"], {
    cwd: dir,
  });
  assertRan(r, "git clone");
  return { dir: join(dir, "echokit"), ran: r };
});

const IS_GIT_CHECKOUT = (() => {
  try {
    return Deno.statSync(join(ROOT, ".git")) !== undefined && hasCommand("git");
  } catch {
    return false;
  }
})();

const cleanups: (() => Promise<unknown>)[] = [];

/** The load run the Output formats section shows, shared by its two commands. */
const OUTPUT_LOAD = "deno run -A mod.ts load --spawn stream --threads 2 --loops 5 --jtl run.jtl " +
  "--json run.json";

/** Every command line of the README, and how it is exercised. */
const EXERCISED: Record<string, Exercise> = {
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
      { file: "tools/compile.ts", needs: ['"--version"'] },
      {
        file: "tools/compile_test.ts",
        test: "smokeTest() passes for a working echokit: version, then each mode serves and echoes",
        needs: ["smokeTest(echokitArgv([])"],
      },
    ],
    why: "the smoke test (tools/compile.ts) runs --version first, on the release binary in " +
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
      assert.equal(doc.schema, "echokit.load-result");
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

// ---------------------------------------------------------------------------
// Checking a named test

/** The text of one `Deno.test` in a file: from its name to the next test. */
function testBody(source: string, file: string, name: string): string {
  const at = source.indexOf(JSON.stringify(name));
  assert.ok(at >= 0, `${file} has no test named ${JSON.stringify(name)}`);
  assert.match(source.slice(Math.max(0, at - 40), at), /Deno\.test\(\s*(\{\s*name:\s*)?$/);
  const next = source.indexOf("\nDeno.test(", at);
  return source.slice(at, next < 0 ? undefined : next);
}

async function readme(): Promise<string> {
  return await Deno.readTextFile(join(ROOT, "README.md"));
}

// ---------------------------------------------------------------------------
// The tests

Deno.test("readmeCommands() joins continuations, drops comments and keeps output lines", () => {
  const md = [
    "text",
    "```sh",
    "# a note",
    "deno run -A mod.ts serve --port 7000   # trailing note",
    "# listening 127.0.0.1:7000 mode=stream pid=1",
    "echokit load --host h \\",
    "  --json a.json",
    "python3 -c \"print('#1')\"",
    "```",
    "- item",
    "",
    "  ```sh",
    "  deno task ok",
    "  ```",
    "```ts",
    "deno.not.a.command();",
    "```",
  ].join("\n");
  assert.deepEqual(readmeCommands(md), [
    {
      line: "deno run -A mod.ts serve --port 7000",
      after: ["listening 127.0.0.1:7000 mode=stream pid=1"],
    },
    { line: "echokit load --host h --json a.json", after: [] },
    { line: "python3 -c \"print('#1')\"", after: [] },
    { line: "deno task ok", after: [] },
  ]);
});

Deno.test("shellWords() and shapeOf() read commands and shown output as sh and a reader would", () => {
  assert.deepEqual(shellWords(`python3 -c "a 'b' \\"c\\" \\n" x\\ y 'z "w"'`), [
    "python3",
    "-c",
    `a 'b' "c" \\n`,
    "x y",
    'z "w"',
  ]);
  const shape = shapeOf("summary +    10 in 00:00:01 = 20.0/s Avg:     0 … | gen CPU 4.2%");
  assert.match("summary + 123456 in 00:01:10 = 1234.5/s Avg:    12 x y | gen CPU 93.0%", shape);
  assert.doesNotMatch("summary =    10 in 00:00:01 = 20.0/s Avg:     0 x | gen CPU 4.2%", shape);
});

Deno.test("README: every shell command is in the map, and the map has no stale entry", async () => {
  const text = await readme();
  const commands = readmeCommands(text).map((c) => c.line);
  assert.ok(commands.length >= 40, `${commands.length} commands`);
  const unmapped = commands.filter((c) => !(c in EXERCISED));
  assert.deepEqual(unmapped, [], "add each to EXERCISED: run it here or name the test that does");
  const stale = Object.keys(EXERCISED).filter((c) => !commands.includes(c));
  assert.deepEqual(stale, [], "EXERCISED lists commands the README no longer has");
  assert.equal(new Set(commands).size, commands.length, "each command appears once");
  for (const [line, ex] of Object.entries(EXERCISED)) {
    if (isHere(ex) && (ex.set || ex.add)) assert.ok(ex.why, `say why ${line} is run changed`);
  }
  // Commands typed into a block that is not a shell block would escape the map.
  const typed = /^(\$ |deno |npx |echokit |\.\/echokit|git |python3 |sha256sum |shasum |chmod )/;
  for (const block of fencedBlocks(text).filter((b) => !SHELL_LANGS.has(b.lang))) {
    const lines = block.lines.filter((l) => typed.test(l.trim()));
    assert.deepEqual(lines, [], `a command in a \`\`\`${block.lang} block: make it a sh block`);
  }
});

Deno.test("README: each command run elsewhere is still run there, with its flags", async () => {
  for (const { line } of readmeCommands(await readme())) {
    const ex = EXERCISED[line];
    if (!ex || isHere(ex)) continue;
    const used: string[] = [];
    for (const place of ex.where) {
      const source = await Deno.readTextFile(join(ROOT, place.file));
      const text = place.test ? testBody(source, place.file, place.test) : source;
      for (const need of place.needs) {
        assert.ok(text.includes(need), `${place.file} ${place.test ?? ""} lacks ${need}`);
        used.push(need);
      }
    }
    for (const flag of shellWords(line).filter((w) => w.startsWith("--"))) {
      assert.ok(
        used.some((u) => u.includes(flag)) || flag in (ex.differs ?? {}),
        `${JSON.stringify(line)}: nothing named runs it with ${flag} (or say why in differs)`,
      );
    }
    for (const flag of Object.keys(ex.differs ?? {})) {
      assert.ok(shellWords(line).includes(flag), `differs names ${flag}, not in ${line}`);
    }
  }
});

Deno.test({
  name: "README: every command mapped to this file runs and prints what the README shows",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const root = await Deno.makeTempDir({ prefix: "echokit_readme_" });
    const tiny = join(root, "tiny.json");
    await Deno.writeTextFile(tiny, JSON.stringify(TINY_PLAN));
    const steps: (() => Promise<boolean>)[] = [];
    const commands = readmeCommands(await readme());
    for (const [n, { line, after }] of commands.entries()) {
      const ex = EXERCISED[line];
      if (!ex || !isHere(ex)) continue;
      const missing = (ex.tools ?? []).filter((tool) => !hasCommand(tool));
      steps.push(() =>
        t.step({
          name: line,
          ignore: missing.length > 0 || (line.startsWith("git ") && !IS_GIT_CHECKOUT),
          sanitizeOps: false,
          sanitizeResources: false,
          sanitizeExit: false,
          async fn() {
            const dir = join(root, `step${n}`);
            await Deno.mkdir(dir);
            const words = shellWords(line);
            for (const flag of Object.keys(ex.set ?? {})) {
              const i = words.indexOf(flag);
              assert.ok(i > 0 && i + 1 < words.length, `set: the command has no ${flag} value`);
              words[i + 1] = ex.set![flag];
            }
            for (const word of ex.add ?? []) {
              if (word.startsWith("--")) assert.ok(!words.includes(word), `add repeats ${word}`);
            }
            const argv = [...words, ...(ex.add ?? [])]
              .map((w) => w.replaceAll("{dir}", dir).replaceAll("{tiny}", tiny));
            const ran = await ex.run({ argv, dir, after });
            if (ex.shows) assertShows(after, ex.shows, ran.stdout + ran.stderr);
            else assert.deepEqual(after, [], "lines shown under it: say shows in the map");
          },
        })
      );
    }
    // Figures and files the README shows outside shell blocks.
    steps.push(() =>
      t.step({
        name: "the load output block is what its command prints",
        sanitizeOps: false,
        sanitizeResources: false,
        sanitizeExit: false,
        async fn() {
          const m = /From\s+`(deno run -A mod\.ts load [^`]+)`\s+here:\n\n```\n([\s\S]*?)```/
            .exec(await readme());
          assert.ok(m, "the README shows load output under the command it came from");
          const r = await run(shellWords(m[1]));
          assertRan(r, m[1]);
          const shown = m[2].trimEnd().split("\n");
          assertShows(shown.filter((l) => l.startsWith("summary =")), "shape", r.stdout);
          // A "summary +" line appears only when a run spans an --interval boundary.
          const plus = r.stdout.split("\n").filter((l) => l.startsWith("summary +"));
          for (const line of plus) {
            assert.match(line, shapeOf(shown.find((l) => l.startsWith("summary +"))!));
          }
        },
      })
    );
    steps.push(() =>
      t.step({
        name: "the library example runs as shown",
        sanitizeOps: false,
        sanitizeResources: false,
        sanitizeExit: false,
        async fn() {
          const blocks = fencedBlocks(await readme()).filter((b) => b.lang === "ts");
          assert.equal(blocks.length, 1);
          const r = await run(["deno", "run", "-A", "-"], { stdin: blocks[0].lines.join("\n") });
          assertRan(r, "the example");
          assert.match(r.stdout, /^\d+ \{\n {2}accepted: 0,\n/);
        },
      })
    );
    steps.push(() =>
      t.step({
        name: "the JSON plan shown is fixtures/echo_tcp.plan.json",
        fn: async () => {
          const blocks = fencedBlocks(await readme()).filter((b) => b.lang === "json");
          assert.equal(blocks.length, 1);
          const file = await Deno.readTextFile(join(ROOT, "fixtures/echo_tcp.plan.json"));
          assert.deepEqual(JSON.parse(blocks[0].lines.join("\n")), JSON.parse(file));
        },
        sanitizeOps: false,
        sanitizeResources: false,
        sanitizeExit: false,
      })
    );
    try {
      // A small pool: the runs are mostly waiting (ramp-up, child start), not CPU.
      const queue = [...steps];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) await next();
        }),
      );
    } finally {
      for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
