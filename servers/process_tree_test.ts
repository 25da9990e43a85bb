import assert from "node:assert/strict";
import { descendants } from "./process_tree.ts";

/** Starts sh with a child subshell (which has a sleep of its own) and a sleep; reads their pids. */
async function startTree(): Promise<{ child: Deno.ChildProcess; pids: number[] }> {
  const child = new Deno.Command("sh", {
    args: ["-c", "(sleep 30 & echo $!; wait) & echo $!; sleep 30 & echo $!; wait"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.trim().split("\n").length < 3 || !text.endsWith("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return { child, pids: text.trim().split("\n").map(Number) };
}

async function stopTree(child: Deno.ChildProcess, pids: number[]): Promise<void> {
  for (const pid of [...pids, child.pid]) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await child.status;
  await child.stdout.cancel().catch(() => {});
}

Deno.test({
  name: "descendants() reads a spawned tree from /proc exactly, grandchildren included",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { child, pids } = await startTree();
    try {
      assert.equal(pids.length, 3, `pids ${pids}`);
      const found = await descendants(child.pid, { method: "proc" });
      assert.deepEqual(found.toSorted((a, b) => a - b), pids.toSorted((a, b) => a - b));
      assert.deepEqual(
        await descendants(pids[2], { method: "proc" }),
        [],
        "a sleep has no children",
      );
    } finally {
      await stopTree(child, pids);
    }
  },
});

Deno.test({
  name: "descendants() of a process that is gone is empty, not an error",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { child, pids } = await startTree();
    await stopTree(child, pids);
    assert.deepEqual(await descendants(child.pid, { method: "proc" }), []);
  },
});

Deno.test({
  name: "descendants() through pidtree (the macOS path) finds the same tree",
  ignore: new Deno.Command("sh", { args: ["-c", "command -v ps"] }).outputSync().code !== 0,
  async fn() {
    const { child, pids } = await startTree();
    try {
      const found = await descendants(child.pid, { method: "pidtree" });
      assert.deepEqual(found.toSorted((a, b) => a - b), pids.toSorted((a, b) => a - b));
    } finally {
      await stopTree(child, pids);
    }
  },
});
