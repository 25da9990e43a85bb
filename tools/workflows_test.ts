/**
 * The GitHub Actions workflows, checked as far as possible without GitHub:
 * valid YAML, the triggers and jobs the release process relies on, every
 * action pinned to a full commit SHA, and every `run:` script valid bash.
 */
import assert from "node:assert/strict";
import { parseDocument } from "yaml";
import { RELEASE_TARGETS } from "./compile_config.ts";

const DIR = new URL("../.github/workflows/", import.meta.url);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  "runs-on": string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> & { include?: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

async function load(name: string): Promise<{ text: string; workflow: Workflow }> {
  const text = await Deno.readTextFile(new URL(name, DIR));
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  assert.deepEqual(doc.errors.map(String), [], `${name} is not valid YAML`);
  assert.deepEqual(doc.warnings.map(String), [], `${name} has YAML warnings`);
  return { text, workflow: doc.toJS() as Workflow };
}

function runs(job: Job): string {
  return job.steps.map((s) => s.run ?? "").join("\n");
}

const FILES = ["ci.yml", "release.yml"];

Deno.test("workflows: only ci.yml and release.yml, each valid YAML with named jobs and steps", async () => {
  const names = (await Array.fromAsync(Deno.readDir(DIR))).map((e) => e.name).sort();
  assert.deepEqual(names, FILES);
  for (const file of FILES) {
    const { workflow } = await load(file);
    assert.equal(typeof workflow.name, "string");
    assert.ok(Object.keys(workflow.jobs).length > 0);
    for (const [id, job] of Object.entries(workflow.jobs)) {
      assert.equal(typeof job["runs-on"], "string", `${file} job ${id} has runs-on`);
      assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${file} job ${id} has steps`);
      for (const step of job.steps) {
        assert.ok(
          (step.uses === undefined) !== (step.run === undefined),
          `${file} ${id}: uses xor run`,
        );
      }
      for (const need of [job.needs ?? []].flat()) {
        assert.ok(need in workflow.jobs, `${file} job ${id} needs unknown job "${need}"`);
      }
    }
  }
});

Deno.test("workflows: every action is pinned to a full commit SHA with its version in a comment", async () => {
  const pins = new Map<string, string>();
  for (const file of FILES) {
    const { text, workflow } = await load(file);
    const lines = text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l));
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps).filter((s) => s.uses);
    assert.equal(lines.length, steps.length, `${file}: every uses: is a step`);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      const m = /uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/.exec(line.trim());
      assert.ok(m, `${file}: "${line.trim()}" is not pinned as owner/repo@<sha> # vX.Y.Z`);
      const [, action, sha, version] = m;
      const pin = `${sha} ${version}`;
      assert.equal(pins.get(action) ?? pin, pin, `${action} is pinned the same way everywhere`);
      pins.set(action, pin);
    }
  }
});

Deno.test("workflows: every run: script is valid bash", async () => {
  for (const file of FILES) {
    const { workflow } = await load(file);
    for (const [id, job] of Object.entries(workflow.jobs)) {
      for (const step of job.steps) {
        if (step.run === undefined) continue;
        // GitHub substitutes ${{ … }} before bash sees the script.
        const script = step.run.replaceAll(/\$\{\{[^}]*\}\}/g, "x");
        const out = await new Deno.Command("bash", {
          args: ["-n", "-c", script],
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, `${file} ${id}: ${new TextDecoder().decode(out.stderr)}`);
      }
    }
  }
});

Deno.test("workflows: matrix values used in a job are defined by its matrix", async () => {
  for (const file of FILES) {
    const { text, workflow } = await load(file);
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const used = new Set(
        [...JSON.stringify(job).matchAll(/matrix\.([\w-]+)/g)].map((m) => m[1]),
      );
      const matrix = job.strategy?.matrix ?? {};
      const defined = new Set([
        ...Object.keys(matrix).filter((k) => k !== "include"),
        ...(matrix.include ?? []).flatMap((row) => Object.keys(row)),
      ]);
      for (const key of used) assert.ok(defined.has(key), `${file} ${id}: matrix.${key}`);
    }
    assert.ok(text.length > 0);
  }
});

Deno.test("ci.yml runs fmt, lint, check and the tests on Linux and macOS with Deno 2.9", async () => {
  const { workflow } = await load("ci.yml");
  assert.deepEqual(Object.keys(workflow.on).sort(), ["pull_request", "push"]);
  assert.deepEqual((workflow.on.push as { branches: string[] }).branches, ["main"]);
  assert.deepEqual(workflow.permissions, { contents: "read" });
  const job = workflow.jobs.test;
  assert.equal(job["runs-on"], "${{ matrix.os }}");
  assert.deepEqual(job.strategy?.matrix.os, ["ubuntu-latest", "macos-latest"]);
  const deno = job.steps.find((s) => s.uses?.startsWith("denoland/setup-deno@"));
  assert.match(String(deno?.with?.["deno-version"]), /^v2\.9\.\d+$/);
  const script = runs(job);
  for (const command of ["deno fmt --check", "deno lint", "deno check .", "deno task test"]) {
    assert.ok(script.includes(command), `ci.yml runs "${command}"`);
  }
});

Deno.test("release.yml compiles the four release targets on a v* tag and attaches them to the release", async () => {
  const { workflow } = await load("release.yml");
  assert.deepEqual(workflow.on, { push: { tags: ["v*"] } });
  assert.deepEqual(workflow.permissions, { contents: "read" }, "write only where needed");

  const build = workflow.jobs.build;
  assert.match(runs(build), /^deno task compile --target all$/m);
  assert.match(
    runs(build),
    /grep -q .* CHANGELOG\.md/,
    "refuses a tag without a changelog section",
  );
  const upload = build.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.equal(upload?.with?.path, "dist/");
  assert.equal(upload?.with?.["if-no-files-found"], "error");
  // `--target all` is exactly the release targets.
  assert.deepEqual(RELEASE_TARGETS, [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
  ]);

  const smoke = workflow.jobs.smoke;
  assert.deepEqual(smoke.needs, "build");
  const smoked = (smoke.strategy?.matrix.include ?? []).map((row) => row.target);
  for (const t of smoked) assert.ok((RELEASE_TARGETS as readonly string[]).includes(t));
  assert.match(
    runs(smoke),
    /tools\/compile\.ts --smoke "dist\/echokit-\$\{\{ matrix\.target \}\}"/,
  );

  const publish = workflow.jobs.publish;
  assert.deepEqual([publish.needs].flat().sort(), ["build", "smoke"]);
  assert.deepEqual(publish.permissions, { contents: "write" });
  assert.match(
    runs(publish),
    /gh release upload "\$GITHUB_REF_NAME" dist\/echokit-\* dist\/SHA256SUMS/,
  );
});
