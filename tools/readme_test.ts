/**
 * The documents, command by command: the README and every page in `docs/`.
 * Every command line of every `sh` block is either run here — as written, or
 * cut down in a way the map (`_doc_map.ts`) spells out (port 0, smaller
 * plans, output files in a temporary folder) — or named with the test that
 * runs it, and that test is checked to exist and to use the command's flags.
 * A command added to a page without an entry, an entry for a command no page
 * has any more, or output shown under a command that the command no longer
 * prints, fails this file.
 *
 * In a shell block, `#` lines are never commands. Those directly under a
 * command (no blank line between) are its output, checked against what it
 * prints; a note about the next command follows a blank line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertShows,
  docCommands,
  docPages,
  fencedBlocks,
  shapeOf,
  SHELL_LANGS,
  shellWords,
} from "./_doc_blocks.ts";
import { cleanups, EXERCISED, IS_GIT_CHECKOUT, isHere, TINY_PLAN } from "./_doc_map.ts";
import { assertRan, hasCommand, ROOT, run } from "./_doc_run.ts";

/** Heavy commands run at most this many at a time (2 cores, shared with other test files). */
const CONCURRENCY = 2;

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

/** Every command line of every page, each with the page it is on. */
async function allCommands(): Promise<{ file: string; line: string; after: string[] }[]> {
  return (await docPages(ROOT)).flatMap(({ file, text }) =>
    docCommands(text).map((c) => ({ file, ...c }))
  );
}

// ---------------------------------------------------------------------------
// The tests

Deno.test("README and docs: every shell command is in the map, and the map has no stale entry", async () => {
  const commands = (await allCommands()).map((c) => c.line);
  assert.ok(commands.length >= 40, `${commands.length} commands`);
  const unmapped = commands.filter((c) => !(c in EXERCISED));
  assert.deepEqual(unmapped, [], "add each to EXERCISED: run it here or name the test that does");
  const stale = Object.keys(EXERCISED).filter((c) => !commands.includes(c));
  assert.deepEqual(stale, [], "EXERCISED lists commands no page has any more");
  assert.equal(new Set(commands).size, commands.length, "each command appears once");
  for (const [line, ex] of Object.entries(EXERCISED)) {
    if (isHere(ex) && (ex.set || ex.add)) assert.ok(ex.why, `say why ${line} is run changed`);
  }
  // Commands typed into a block that is not a shell block would escape the map.
  const typed = /^(\$ |deno |npx |echokit |\.\/echokit|git |python3 |sha256sum |shasum |chmod )/;
  for (const { file, text } of await docPages(ROOT)) {
    for (const block of fencedBlocks(text).filter((b) => !SHELL_LANGS.has(b.lang))) {
      const lines = block.lines.filter((l) => typed.test(l.trim()));
      assert.deepEqual(lines, [], `${file}: a command in a \`\`\`${block.lang} block: make it sh`);
    }
  }
});

Deno.test("README and docs: each command run elsewhere is still run there, with its flags", async () => {
  for (const { line } of await allCommands()) {
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
  name: "README and docs: every command mapped to this file runs and prints what the page shows",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const root = await Deno.makeTempDir({ prefix: "echokit_readme_" });
    const tiny = join(root, "tiny.json");
    await Deno.writeTextFile(tiny, JSON.stringify(TINY_PLAN));
    const steps: (() => Promise<boolean>)[] = [];
    const commands = await allCommands();
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
          const m =
            /From\s+`(deno run -A mod\.ts load [^`]+)`\s+here(?:\s+\([^)]*\))?:\n\n```\n([\s\S]*?)```/
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
          const blocks = (await docPages(ROOT)).flatMap((p) => fencedBlocks(p.text))
            .filter((b) => b.lang === "json");
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
