/**
 * The README's Install section, command by command: each one is either run
 * here or named with the test that runs it, and a command added to the
 * section without a test fails this file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectLocal, roundTrip } from "../servers/testing.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Every command line of the Install section, and where it is exercised. */
const EXERCISED: Record<string, string> = {
  "git clone <this repository> echokit && cd echokit": "CI's fresh clone (.ci/run)",
  "npx -y deno@2.9.6 task serve --port 0": "this file",
  "deno task serve --port 0": "this file",
  "deno run -A mod.ts --help": "cli/main_test.ts (echokit --help)",
  "sha256sum -c SHA256SUMS --ignore-missing": "this file (SHA256SUMS as release.yml writes it)",
  "chmod +x echokit-x86_64-unknown-linux-gnu": "release.yml smoke job",
  "./echokit-x86_64-unknown-linux-gnu --version":
    "tools/compile_test.ts (smoke test) and release.yml",
  "deno task compile": "tools/compile_test.ts (no denort: exit 1 with advice)",
  "deno task compile --target all": "tools/compile_test.ts and release.yml",
  "deno task compile --dry-run": "tools/compile_test.ts",
  "DENORT_BIN=/path/to/denort deno task compile": "tools/compile_test.ts (real deno compile)",
};

function installCommands(readme: string): string[] {
  const start = readme.indexOf("\n## Install\n");
  assert.ok(start >= 0, "README has an Install section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((b) => b.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

// Runs the command exactly as written (port 0 included), reads the real port
// and pid from the listening line, echoes, then stops the server.
async function serveThroughTask(argv: string[]): Promise<void> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let pid: number | undefined;
  try {
    const deadline = setTimeout(() => reader.cancel("timeout"), 180_000);
    let m: RegExpExecArray | null = null;
    while (!(m = /^listening 127\.0\.0\.1:(\d+) mode=stream pid=(\d+)$/m.exec(out))) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    clearTimeout(deadline);
    if (!m) assert.fail(`No listening line in ${JSON.stringify(out)}: ${await stderr}`);
    pid = Number(m[2]);
    const conn = await connectLocal(Number(m[1]));
    const msg = new TextEncoder().encode("readme\n");
    assert.deepEqual(await roundTrip(conn, msg), msg);
    conn.close();
    // deno task runs the server as its child: stop that, and the task ends with it.
    Deno.kill(pid, "SIGTERM");
    pid = undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const status = await child.status;
    clearTimeout(timer);
    assert.equal(status.code, 0, "the task exits 0 once its server stopped");
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

Deno.test("README: every Install command is exercised somewhere", async () => {
  const commands = installCommands(await Deno.readTextFile(join(ROOT, "README.md")));
  assert.ok(commands.length >= 8);
  const untested = commands.filter((c) => !(c in EXERCISED));
  assert.deepEqual(untested, [], "add a test for each and list it in EXERCISED");
  const stale = Object.keys(EXERCISED).filter((c) => !commands.includes(c));
  assert.deepEqual(stale, [], "EXERCISED lists commands the README no longer has");
});

Deno.test("README: deno task serve --port 0 serves and echoes until SIGTERM", async () => {
  await serveThroughTask([Deno.execPath(), "task", "--quiet", "serve", "--port", "0"]);
});

Deno.test({
  name: "README: npx -y deno@2.9.6 task serve --port 0 serves and echoes until SIGTERM",
  // Needs npm and the npm registry (or its cache); .ci/run uses the same npx deno.
  ignore: !hasCommand("npx"),
  async fn() {
    await serveThroughTask(["npx", "-y", "deno@2.9.6", "task", "--quiet", "serve", "--port", "0"]);
  },
});

Deno.test({
  name: "README: sha256sum -c SHA256SUMS --ignore-missing checks the one binary downloaded",
  ignore: !hasCommand("sha256sum"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      for (const t of ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin"]) {
        await Deno.writeTextFile(join(dir, `echokit-${t}`), `binary for ${t}\n`);
      }
      // As release.yml writes it, then as a user has it: one binary beside the sums.
      const sums = await sh(dir, "sha256sum echokit-* > SHA256SUMS");
      assert.equal(sums.code, 0);
      await Deno.remove(join(dir, "echokit-aarch64-apple-darwin"));
      const ok = await sh(dir, "sha256sum -c SHA256SUMS --ignore-missing");
      assert.equal(ok.code, 0, ok.out);
      assert.match(ok.out, /echokit-x86_64-unknown-linux-gnu: OK/);
      await Deno.writeTextFile(join(dir, "echokit-x86_64-unknown-linux-gnu"), "tampered\n");
      assert.notEqual((await sh(dir, "sha256sum -c SHA256SUMS --ignore-missing")).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function sh(cwd: string, script: string): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command("sh", { args: ["-c", script], cwd, stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}
