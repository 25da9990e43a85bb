import assert from "node:assert/strict";
import {
  clockTicksPerSecond,
  cpuPercent,
  pageSize,
  parseProcStat,
  readProcMemory,
  readProcStat,
  readSelfUsage,
} from "./proc_stats.ts";

const linux = Deno.build.os === "linux";
const NO_SUCH_PID = 0x7fffffff; // above any pid_max

function getconf(name: string): number {
  const out = new Deno.Command("getconf", { args: [name] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

function burnCpu(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  if (x < 0) console.log(x);
}

Deno.test("parseProcStat() counts fields from the last parenthesis of the command name", () => {
  const line =
    "4242 (we (ird) name) S 17 4242 4242 0 -1 4194304 1 0 0 0 250 75 0 0 20 0 9 0 46238 " +
    "2097152 300 18446744073709551615";
  assert.deepEqual(parseProcStat(line, 100, 4096), {
    pid: 4242,
    ppid: 17,
    state: "S",
    userMs: 2500,
    systemMs: 750,
    threads: 9,
    vszBytes: 2097152,
    rssBytes: 300 * 4096,
  });
});

Deno.test("parseProcStat() converts ticks with the given clock rate and page size", () => {
  const line = "1 (x) R 0 1 1 0 -1 0 0 0 0 0 1000 1000 0 0 20 0 1 0 1 4096 2";
  const stat = parseProcStat(line, 250, 65536);
  assert.equal(stat?.userMs, 4000);
  assert.equal(stat?.rssBytes, 2 * 65536);
});

Deno.test("parseProcStat() returns undefined for text that is not a stat line", () => {
  assert.equal(parseProcStat(""), undefined);
  assert.equal(parseProcStat("1 (x) R 0 1"), undefined);
  assert.equal(parseProcStat("no parentheses at all here"), undefined);
});

Deno.test("cpuPercent() is user+system time as a percentage of one core", () => {
  assert.equal(cpuPercent({ userMs: 0, systemMs: 0 }, { userMs: 300, systemMs: 200 }, 1000), 50);
  assert.equal(cpuPercent({ userMs: 0, systemMs: 0 }, { userMs: 1500, systemMs: 500 }, 1000), 200);
});

Deno.test("cpuPercent() is 0 when no time elapsed or the counters went backwards", () => {
  assert.equal(cpuPercent({ userMs: 0, systemMs: 0 }, { userMs: 10, systemMs: 0 }, 0), 0);
  assert.equal(cpuPercent({ userMs: 50, systemMs: 0 }, { userMs: 10, systemMs: 0 }, 100), 0);
});

Deno.test({
  name: "clockTicksPerSecond() and pageSize() match getconf",
  ignore: !linux,
  fn() {
    assert.equal(clockTicksPerSecond(), getconf("CLK_TCK"));
    assert.equal(pageSize(), getconf("PAGESIZE"));
  },
});

Deno.test({
  name: "readProcStat() reads this process: its pid, threads, memory and growing CPU time",
  ignore: !linux,
  fn() {
    const before = readProcStat(Deno.pid);
    assert.ok(before);
    assert.equal(before.pid, Deno.pid);
    assert.ok(before.threads >= 1);
    assert.ok(before.rssBytes > 0 && before.vszBytes >= before.rssBytes);
    burnCpu(200);
    const after = readProcStat(Deno.pid)!;
    // 200 ms of busy loop is 20 ticks; at least one must have been counted.
    assert.ok(after.userMs + after.systemMs > before.userMs + before.systemMs);
  },
});

Deno.test({
  name: "readProcStat() reads a child process, whose parent is this process",
  ignore: !linux,
  async fn() {
    const child = new Deno.Command("sleep", { args: ["5"], stdout: "null", stderr: "null" })
      .spawn();
    try {
      const stat = readProcStat(child.pid);
      assert.ok(stat);
      assert.equal(stat.pid, child.pid);
      assert.equal(stat.ppid, Deno.pid);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  },
});

Deno.test("readProcStat() and readProcMemory() return undefined for a process that does not exist", () => {
  assert.equal(readProcStat(NO_SUCH_PID), undefined);
  assert.equal(readProcMemory(NO_SUCH_PID), undefined);
});

Deno.test({
  name: "readProcMemory() agrees with readProcStat() on virtual size",
  ignore: !linux,
  fn() {
    const mem = readProcMemory(Deno.pid);
    const stat = readProcStat(Deno.pid);
    assert.ok(mem && stat);
    assert.ok(mem.rssBytes > 0);
    // Both count the same pages; allow for allocation between the two reads.
    assert.ok(Math.abs(mem.vszBytes - stat.vszBytes) < 256 * 1024 * 1024);
    assert.equal(mem.vszBytes % pageSize(), 0);
  },
});

Deno.test("readSelfUsage() reports resident memory and CPU time on any OS", () => {
  const usage = readSelfUsage();
  assert.ok(usage.rssBytes > 0);
  assert.ok(usage.userMs >= 0 && usage.systemMs >= 0);
  if (linux) assert.ok(usage.vszBytes !== undefined && usage.vszBytes >= usage.rssBytes);
});
