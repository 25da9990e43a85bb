/**
 * What the benchmark asks Linux about other processes beyond CPU and memory
 * (those come from `loadgen/resource_monitor.ts`): CPU pinning with
 * `taskset`, which programs exist, and syscall counts with `perf stat`.
 *
 * @module
 */
/**
 * Pins every thread of a process (and, by inheritance, every thread it starts
 * later) to one CPU.
 *
 * @param pid The process.
 * @param cpu The CPU number.
 * @returns True when `taskset` did it.
 */
export async function pinProcess(pid: number, cpu: number): Promise<boolean> {
  try {
    const out = await new Deno.Command("taskset", {
      args: ["-a", "-c", "-p", String(cpu), String(pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Whether a program runs (`name --version` or the given args exit 0). */
export async function hasProgram(name: string, args = ["--version"]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return undefined;
    const text = new TextDecoder().decode(out.stdout).trim() ||
      new TextDecoder().decode(out.stderr).trim();
    return text.split("\n")[0] || name;
  } catch {
    return undefined;
  }
}

/**
 * Counts a process's syscalls over windows it is told to enable, with
 * `perf stat -e raw_syscalls:sys_enter` started disabled and controlled
 * through a fifo, so starting perf costs nothing inside the window.
 */
export class SyscallCounter {
  #child: Deno.ChildProcess;
  #ctl: Deno.FsFile;
  #ack: Deno.FsFile;
  #dir: string;

  private constructor(child: Deno.ChildProcess, ctl: Deno.FsFile, ack: Deno.FsFile, dir: string) {
    this.#child = child;
    this.#ctl = ctl;
    this.#ack = ack;
    this.#dir = dir;
  }

  /**
   * Attaches perf to a process, counting nothing until {@linkcode enable}.
   *
   * @param pid The process (all its threads, and threads it starts later).
   * @returns The counter, or undefined when perf is missing or not allowed.
   */
  static async attach(pid: number): Promise<SyscallCounter | undefined> {
    const dir = await Deno.makeTempDir({ prefix: "echokit-perf-" });
    try {
      for (const f of ["ctl", "ack"]) {
        const r = await new Deno.Command("mkfifo", { args: [`${dir}/${f}`] }).output();
        if (!r.success) throw new Error("mkfifo failed");
      }
      const child = new Deno.Command("perf", {
        args: [
          "stat",
          "-x,",
          "-e",
          "raw_syscalls:sys_enter",
          "-p",
          String(pid),
          "-D",
          "-1",
          "--control",
          `fifo:${dir}/ctl,${dir}/ack`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const opened = Promise.all([
        Deno.open(`${dir}/ctl`, { write: true }),
        Deno.open(`${dir}/ack`, { read: true }),
      ]);
      // perf that fails (not permitted, no tracepoint) exits without opening the fifos.
      const early = child.status.then(() => undefined);
      const files = await Promise.race([opened, early]);
      if (!files) {
        // perf never opened the fifos: open their other ends so our pending opens return.
        const others = await Promise.all([
          Deno.open(`${dir}/ctl`, { read: true }),
          Deno.open(`${dir}/ack`, { write: true }),
        ]);
        for (const f of [...others, ...await opened]) f.close();
        await child.stderr.cancel();
        await Deno.remove(dir, { recursive: true });
        return undefined;
      }
      return new SyscallCounter(child, files[0], files[1], dir);
    } catch {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return undefined;
    }
  }

  /** Starts counting (waits for perf's acknowledgement). */
  enable(): Promise<void> {
    return this.#command("enable");
  }

  /** Stops counting (waits for perf's acknowledgement). */
  disable(): Promise<void> {
    return this.#command("disable");
  }

  async #command(word: string): Promise<void> {
    await this.#ctl.write(new TextEncoder().encode(`${word}\n`));
    const buf = new Uint8Array(16);
    await this.#ack.read(buf);
  }

  /**
   * Detaches perf and reads the count.
   *
   * @returns Syscalls counted while enabled, or undefined when perf printed none.
   */
  async stop(): Promise<number | undefined> {
    try {
      this.#child.kill("SIGINT");
    } catch {
      // Already gone (the process it watched exited).
    }
    const [out] = await Promise.all([
      new Response(this.#child.stderr).text(),
      this.#child.status,
    ]);
    this.#ctl.close();
    this.#ack.close();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
    const m = /^(\d+),[^,]*,raw_syscalls:sys_enter/m.exec(out);
    return m ? Number(m[1]) : undefined;
  }
}
