/**
 * The machine and software a benchmark ran on, printed in its header: CPU,
 * kernel, runtimes and their versions, the commit, and the RSS of each
 * runtime doing nothing (what a peer's memory is compared with).
 *
 * @module
 */
import { rssBytes } from "../servers/testing.ts";
import { hasProgram } from "./_bench_proc.ts";

/** The machine and software a run was measured on. */
export interface MachineInfo {
  /** ISO date and time of the run. */
  date: string;
  /** `git rev-parse --short HEAD`, with `-dirty` when the tree has changes. */
  commit: string;
  /** Logical CPUs. */
  cpus: number;
  /** CPU model from /proc/cpuinfo. */
  cpuModel: string;
  /** Total memory, bytes. */
  memTotalBytes: number;
  /** Kernel release. */
  kernel: string;
  /** Deno version. */
  deno: string;
  /** Python, Node and C compiler versions (missing ones absent). */
  tools: Record<string, string>;
  /**
   * RSS of a program that does nothing, per runtime (deno, python3, node;
   * missing ones absent), bytes: the floor under any server in that runtime.
   */
  idleRssBytes: Record<string, number>;
}

/**
 * Describes this machine for the header.
 *
 * @returns Date, commit, CPUs, memory, kernel and tool versions.
 */
export async function machineInfo(): Promise<MachineInfo> {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const root = new URL("../", import.meta.url).pathname;
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args,
        cwd: root,
        stdout: "piped",
        stderr: "null",
      })
        .output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const head = await git("rev-parse", "--short", "HEAD");
  const dirty = await git("status", "--porcelain", "--untracked-files=no");
  const tools: Record<string, string> = {};
  for (
    const [name, args] of [["python3", ["--version"]], ["node", ["--version"]], ["cc", [
      "--version",
    ]]] as const
  ) {
    const v = await hasProgram(name, [...args]);
    if (v) tools[name] = v;
  }
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo"));
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: head ? `${head}${dirty ? "-dirty" : ""}` : "unknown",
    cpus: navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(read("/proc/cpuinfo"))?.[1]?.trim() ??
      Deno.build.arch,
    memTotalBytes: mem ? Number(mem[1]) * 1024 : NaN,
    kernel: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    tools,
    idleRssBytes: await idleRuntimeRss(Object.keys(tools)),
  };
}

/** How long an idle program runs before its RSS is read, ms. */
const IDLE_PROGRAM_SETTLE_MS = 1000;

/**
 * Measures the RSS of a program that only sleeps, in Deno and in each of the
 * other runtimes present (python3, node): what a server in that runtime costs
 * before it does anything. Linux only (/proc); elsewhere empty.
 *
 * @param runtimes Other runtimes found on this machine.
 * @returns Bytes per runtime.
 */
export async function idleRuntimeRss(runtimes: string[]): Promise<Record<string, number>> {
  if (Deno.build.os !== "linux") return {};
  const sleep = `${IDLE_PROGRAM_SETTLE_MS * 3}`;
  const programs: Record<string, string[]> = {
    deno: [Deno.execPath(), "eval", `setTimeout(() => {}, ${sleep})`],
    python3: ["python3", "-c", `import time; time.sleep(${sleep} / 1000)`],
    node: ["node", "-e", `setTimeout(() => {}, ${sleep})`],
  };
  const chosen = Object.entries(programs).filter(([name]) =>
    name === "deno" || runtimes.includes(name)
  );
  const measured = await Promise.all(chosen.map(async ([, [cmd, ...args]]) => {
    try {
      const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).spawn();
      await new Promise((r) => setTimeout(r, IDLE_PROGRAM_SETTLE_MS));
      const rss = rssBytes(child.pid);
      child.kill("SIGKILL");
      await child.status;
      return rss;
    } catch {
      return undefined; // It would not start: no figure.
    }
  }));
  const idle: Record<string, number> = {};
  chosen.forEach(([name], i) => {
    if (measured[i] !== undefined) idle[name] = measured[i];
  });
  return idle;
}
