import assert from "node:assert/strict";

// The open-file limit is per process, so each case runs in its own child.
async function limitsAfter(code: string): Promise<{ soft: number; hard: number }[]> {
  const socketTs = new URL("./socket.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { raiseFileLimit, setFileLimit } from "${socketTs}";\n${code}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test({
  name: "raiseFileLimit() raises the soft limit toward what is wanted and never lowers it",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const [start, kept, raised, full] = await limitsAfter(`
      const show = (l) => console.log(JSON.stringify(l));
      show(setFileLimit(200));
      show(raiseFileLimit(150));
      show(raiseFileLimit(300));
      show(raiseFileLimit());
    `);
    assert.equal(start.soft, 200);
    assert.equal(kept.soft, 200, "a limit above the wanted one stays");
    assert.equal(raised.soft, Math.min(300, start.hard));
    assert.equal(full.soft, full.hard, "no wanted limit: the hard one");
  },
});
