import assert from "node:assert/strict";
import { docCommands, shapeOf, shellWords } from "./_doc_blocks.ts";

Deno.test("docCommands() joins continuations, drops comments and keeps output lines", () => {
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
  assert.deepEqual(docCommands(md), [
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
