import assert from "node:assert/strict";
import { procAvailable, ResourceMonitor, SelfMonitor, usageBetween } from "./resource_monitor.ts";

const linux = procAvailable();

const BURN = "import time, sys\n" +
  "while time.process_time() < 0.5: pass\n" +
  "print('done', flush=True)\n" +
  "time.sleep(60)\n";

Deno.test({
  name: "ResourceMonitor counts a grandchild's CPU and memory through the process tree",
  ignore: !linux,
  async fn() {
    // A shell whose child burns 0.5 s of CPU: the tree, not the root alone,
    // must be counted. CPU seconds (not %) keep the test independent of load.
    const child = new Deno.Command("sh", {
      args: ["-c", `python3 -c "${BURN}" & wait`],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const monitor = new ResourceMonitor({ pid: child.pid });
    const reader = child.stdout.getReader();
    try {
      await new Promise((r) => setTimeout(r, 100));
      await monitor.start();
      assert.ok(monitor.pids.length >= 2, `pids ${monitor.pids}`);
      assert.ok(!monitor.pids.includes(Deno.pid));
      const a = monitor.read()!;
      let out = "";
      while (!out.includes("done")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      const b = monitor.read()!;
      const cpu = b.userSeconds + b.systemSeconds - a.userSeconds - a.systemSeconds;
      // Python's start-up before the baseline may have used up to ~0.1 s of it.
      assert.ok(cpu > 0.3 && cpu < 1.5, `cpu ${cpu} s`);
      assert.ok(usageBetween(a, b).cpuPercent > 0);
      assert.ok(b.rssBytes > 1024 * 1024 && b.vszBytes >= b.rssBytes);
    } finally {
      monitor.close();
      reader.releaseLock();
      // Kill the tree we started, child first, by pid.
      for (const pid of [...monitor.pids].reverse()) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
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
