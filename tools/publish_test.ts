/** echokit as a library package: the metadata `deno publish` needs, checked offline. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("../", import.meta.url));

Deno.test("deno.json names the package, its version, license and library entry points", async () => {
  assert.equal(denoJson.name, "@echokit/echokit");
  assert.match(denoJson.version, /^\d+\.\d+\.\d+(-[\w.]+)?$/);
  assert.equal(denoJson.license, "MIT");
  assert.deepEqual(denoJson.exports, {
    ".": "./mod.ts",
    "./servers": "./servers/mod.ts",
    "./loadgen": "./loadgen/mod.ts",
    "./compare": "./compare/mod.ts",
  });
  for (const path of Object.values(denoJson.exports)) {
    assert.ok((await Deno.stat(new URL(path, `file://${ROOT}`))).isFile, path);
  }
  assert.match(await Deno.readTextFile(`${ROOT}/LICENSE`), /^MIT License/);
});

Deno.test("CHANGELOG.md follows Keep a Changelog with an Unreleased section first", async () => {
  const text = await Deno.readTextFile(`${ROOT}/CHANGELOG.md`);
  assert.match(text, /^# Changelog\n/);
  assert.match(text, /keepachangelog\.com/);
  const sections = [...text.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
  assert.equal(sections[0], "[Unreleased]");
  for (const s of sections.slice(1)) assert.match(s, /^\[\d+\.\d+\.\d+\] - \d{4}-\d\d-\d\d$/);
  const kinds = [...text.matchAll(/^### (.*)$/gm)].map((m) => m[1]);
  for (const k of kinds) {
    assert.ok(["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"].includes(k), k);
  }
});

Deno.test("deno publish --dry-run accepts the package and ships no tests or build tools", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, new RegExp(`Simulating publish of @echokit/echokit@${denoJson.version}`));
  assert.match(text, /Success Dry run complete/);
  const files = [...text.matchAll(/file:\/\/\S+/g)].map((m) => m[0].slice(`file://${ROOT}`.length));
  for (const required of ["mod.ts", "servers/mod.ts", "README.md", "LICENSE", "CHANGELOG.md"]) {
    assert.ok(files.includes(required), `${required} is published`);
  }
  const unwanted = files.filter((f) => /_test\.ts$|^tools\/|^\.github\/|^\.ci\/|^dist\//.test(f));
  assert.deepEqual(unwanted, []);
});
