import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import { buildScenarios } from "./scenarios.ts";
import { MODES } from "../servers/types.ts";
import { checkWorks, DEFAULT_COMPARE_MODES, modeColumns } from "./variants.ts";

Deno.test("modeColumns() makes one column per mode × offload × process count", () => {
  const { columns, left } = modeColumns(["stream", "blocking"], {
    offloads: ["none", "threads:4"],
    processes: [1, 2],
  });
  assert.deepEqual(columns.map((c) => c.name), [
    "stream",
    "stream-2p",
    "stream+threads:4",
    "stream+threads:4-2p",
    "blocking",
    "blocking-2p",
  ]);
  assert.deepEqual(columns[3].args, ["--offload", "threads:4", "--processes", "2"]);
  assert.equal(columns[3].mode, "stream");
  assert.deepEqual(left, ["blocking+threads:4: --offload is not available in mode blocking"]);
});

Deno.test("modeColumns() without variants keeps one plain column per mode", () => {
  const { columns } = modeColumns(["stream", "protocol"]);
  assert.deepEqual(columns, [{ name: "stream", kind: "mode" }, { name: "protocol", kind: "mode" }]);
});

Deno.test("modeColumns() and checkWorks() reject bad values", () => {
  assert.throws(() => modeColumns(["stream"], { offloads: ["fibers"] }), UsageError);
  assert.throws(() => modeColumns(["stream"], { processes: [0] }), UsageError);
  assert.throws(() => checkWorks(["sleep:10ms", "nap:1ms"]), UsageError);
});

Deno.test("buildScenarios() runs every row once per --work value with its serve flags", () => {
  const rows = buildScenarios([BUILTIN_PLANS.plan2], { works: ["sleep:10ms", "cpu:1ms"] });
  assert.deepEqual(rows.map((r) => [r.id, r.label, r.work, r.serveArgs]), [
    ["plan2@wsleep:10ms", "plan2 · sleep:10ms", "sleep:10ms", ["--work", "sleep:10ms"]],
    ["plan2@wcpu:1ms", "plan2 · cpu:1ms", "cpu:1ms", ["--work", "cpu:1ms"]],
  ]);
});

Deno.test("DEFAULT_COMPARE_MODES lists every mode but uring, in MODES order", () => {
  assert.deepEqual(DEFAULT_COMPARE_MODES, MODES.filter((m) => m !== "uring"));
  assert.ok(!(DEFAULT_COMPARE_MODES as readonly string[]).includes("uring"));
});

Deno.test("modeColumns() adds a protocol-node column per engine, for protocol only", () => {
  const { columns } = modeColumns(["stream", "protocol"], {
    engines: ["loop", "node"],
    offloads: ["none", "threads:2"],
  });
  assert.deepEqual(columns.map((c) => c.name), [
    "stream",
    "stream+threads:2",
    "protocol",
    "protocol+threads:2",
    "protocol-node",
    "protocol-node+threads:2",
  ]);
  const node = columns.find((c) => c.name === "protocol-node+threads:2");
  assert.deepEqual(node, {
    name: "protocol-node+threads:2",
    kind: "mode",
    mode: "protocol",
    args: ["--engine", "node", "--offload", "threads:2"],
  });
});

Deno.test("modeColumns() adds stream-deno for stream, and each mode keeps its plain column", () => {
  const { columns } = modeColumns(["stream", "protocol", "nonblocking"], {
    engines: ["loop", "deno"],
  });
  assert.deepEqual(columns.map((c) => c.name), [
    "stream",
    "stream-deno",
    "protocol",
    "nonblocking",
  ]);
  assert.deepEqual(columns[1].kind === "mode" && columns[1].args, ["--engine", "deno"]);
  // Only other engines: a mode without them still gets its one column.
  const only = modeColumns(["stream", "protocol"], { engines: ["deno"] }).columns;
  assert.deepEqual(only.map((c) => c.name), ["stream-deno", "protocol"]);
});
