import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import { missingRuntime, parsePeers, SHIPPED_PEERS, splitCommand } from "./peers.ts";
import { runCompare } from "./run.ts";

Deno.test("splitCommand() splits words and quotes like a shell and interprets nothing else", () => {
  assert.deepEqual(splitCommand(`node  'my server.mjs' "a \\"b\\"" {port} $HOME;rm *`), [
    "node",
    "my server.mjs",
    'a "b"',
    "{port}",
    "$HOME;rm",
    "*",
  ]);
  assert.throws(() => splitCommand(`python3 'x.py {port}`), UsageError);
});

Deno.test("parsePeers() reads name='command {port}' and keeps {port} for the spawner", () => {
  const [peer] = parsePeers([`uv='python3 uv_echo.py --port {port} --host=127.0.0.1'`]);
  assert.deepEqual(peer, {
    name: "uv",
    command: ["python3", "uv_echo.py", "--port", "{port}", "--host=127.0.0.1"],
  });
});

Deno.test("parsePeers() expands shipped names and groups", () => {
  assert.deepEqual(parsePeers(["python"]).map((p) => p.name), [
    "py-streams",
    "py-protocol",
    "py-threaded",
    "py-selectors",
  ]);
  assert.deepEqual(parsePeers(["node-net,py-streams"]).map((p) => p.name), [
    "node-net",
    "py-streams",
  ]);
  assert.equal(parsePeers(["shipped"]).length, SHIPPED_PEERS.length);
});

Deno.test("parsePeers() rejects a command without {port}, unknown names and duplicates", () => {
  assert.throws(() => parsePeers(["x=python3 server.py 7000"]), /has no \{port\}/);
  assert.throws(() => parsePeers(["py-fast"]), /Unknown --peer "py-fast"/);
  assert.throws(() => parsePeers(["x=a {port}", "x=b {port}"]), /used twice/);
  assert.throws(() => parsePeers(["bad name=a {port}"]), /Invalid --peer name "bad name"/);
  assert.throws(() => parsePeers(["x="]), /command is empty/);
});

Deno.test("missingRuntime() names a program that is not on PATH", () => {
  assert.equal(
    missingRuntime({ name: "p", command: ["python3", "x.py", "{port}"] }, { PATH: "/nonexistent" }),
    "python3 not found on PATH",
  );
  assert.equal(
    missingRuntime({ name: "p", command: ["/no/such/bin", "{port}"] }),
    "/no/such/bin does not exist",
  );
  assert.equal(missingRuntime({ name: "d", command: [Deno.execPath(), "{port}"] }), undefined);
});

Deno.test("runCompare() skips a peer whose runtime is missing, saying so", async () => {
  const warnings: string[] = [];
  const report = await runCompare({
    plans: [{ ...BUILTIN_PLANS.plan2, threads: 2, loops: 2, rampUp: 0 }],
    modes: [],
    peers: [{ name: "ghost", command: ["no-such-runtime-xyz", "server.py", "{port}"] }],
    onProgress: (e) => e.type === "warning" && warnings.push(e.message),
  });
  assert.equal(report.cells[0].skipped, "no-such-runtime-xyz not found on PATH; peer skipped");
  assert.deepEqual(warnings, ["peer ghost: no-such-runtime-xyz not found on PATH; skipped"]);
});

const shippedHere = SHIPPED_PEERS.filter((p) => missingRuntime(p) === undefined);

Deno.test({
  name: "runCompare() loads every shipped peer whose runtime exists, echo checked",
  ignore: shippedHere.length === 0,
  async fn() {
    const report = await runCompare({
      plans: [{ ...BUILTIN_PLANS.plan2, name: "tiny", threads: 8, loops: 40, rampUp: 0 }],
      modes: [],
      peers: shippedHere,
    });
    for (const peer of shippedHere) {
      const run = report.runs.find((r) => r.server === peer.name)!;
      assert.equal(run.skipped, undefined, `${peer.name}: ${run.skipped}`);
      assert.equal(run.result?.samples, 320, peer.name);
      assert.equal(run.result?.errors, 0, peer.name);
      assert.ok(run.result?.server?.peakRssBytes, `${peer.name} RSS was sampled by its pid`);
    }
  },
});

Deno.test("missingRuntime() leaves out a peer whose probe fails, with what it needs", () => {
  const peer = {
    name: "x",
    command: ["sh", "{port}"],
    probe: { command: ["sh", "-c", "exit 3"], needs: "the x module is not installed" },
  };
  assert.equal(missingRuntime(peer), "the x module is not installed");
  assert.equal(missingRuntime({ ...peer, probe: { ...peer.probe, command: ["true"] } }), undefined);
  const uvloop = SHIPPED_PEERS.find((p) => p.name === "py-uvloop");
  assert.ok(uvloop?.probe, "py-uvloop has no probe");
  assert.deepEqual(uvloop.probe.command, ["python3", "-c", "import uvloop"]);
});
