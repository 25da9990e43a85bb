import assert from "node:assert/strict";
import { procAvailable, ResourceMonitor, SelfMonitor, usageBetween } from "./resource_monitor.ts";

const linux = procAvailable();

Deno.test({
  name: "ResourceMonitor sees a busy child's CPU and memory through its parent (process tree)",
  ignore: !linux,
  async fn() {
    // A shell whose child burns CPU: the tree, not the root alone, must be counted.
    const child = new Deno.Command("sh", {
      args: ["-c", "python3 -c 'while True: pass' & wait"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const monitor = new ResourceMonitor({ pid: child.pid });
    try {
      await new Promise((r) => setTimeout(r, 200));
      await monitor.start();
      assert.ok(monitor.pids.length >= 2, `pids ${monitor.pids}`);
      assert.ok(!monitor.pids.includes(Deno.pid));
      const a = monitor.read()!;
      await new Promise((r) => setTimeout(r, 600));
      const b = monitor.read()!;
      const u = usageBetween(a, b);
      assert.ok(u.cpuPercent > 50, `cpu ${u.cpuPercent}%`);
      assert.ok(u.cpuPercent < 150, `cpu ${u.cpuPercent}%`);
      assert.ok(b.rssBytes > 1024 * 1024 && b.vszBytes >= b.rssBytes);
    } finally {
      monitor.close();
      // Kill the tree we started, child first, by pid.
      for (const pid of [...monitor.pids].reverse()) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await child.status;
    }
  },
});

Deno.test({
  name: "ResourceMonitor reads undefined once its process is gone",
  ignore: !linux,
  async fn() {
    const child = new Deno.Command("sleep", { args: ["0.1"] }).spawn();
    const monitor = new ResourceMonitor({ pid: child.pid, tree: false });
    await monitor.start();
    await child.status;
    assert.equal(monitor.read(), undefined);
    monitor.close();
  },
});

Deno.test("SelfMonitor reports this process's memory and growing CPU time", () => {
  const self = new SelfMonitor();
  const a = self.read();
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i;
  assert.ok(x > 0);
  const b = self.read();
  assert.ok(b.rssBytes > 0);
  assert.ok(b.userSeconds + b.systemSeconds >= a.userSeconds + a.systemSeconds);
  assert.ok(self.cpuMicros() > 0);
});

Deno.test("usageBetween() gives % of one core and 0 for an empty span", () => {
  const a = {
    time: 1000,
    userSeconds: 1,
    systemSeconds: 1,
    rssBytes: 5,
    vszBytes: 9,
    processes: 1,
  };
  const b = { ...a, time: 3000, userSeconds: 2, systemSeconds: 2 };
  const u = usageBetween(a, b);
  assert.equal(u.userPercent, 50);
  assert.equal(u.systemPercent, 50);
  assert.equal(u.cpuPercent, 100);
  assert.equal(usageBetween(a, a).cpuPercent, 0);
});
