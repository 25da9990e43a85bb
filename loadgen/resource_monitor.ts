/**
 * CPU and memory of a process tree, read from `/proc` (Linux): the server
 * under test (its pid and every descendant, found with `pidtree`) and the
 * generator itself. Where `/proc` is missing the monitor says so (undefined
 * figures), it never estimates.
 *
 * @module
 */
import pidtree from "pidtree";
import process from "node:process";
import type { ResourceSample } from "./types.ts";

/** Options for {@linkcode ResourceMonitor}. */
export interface ResourceMonitorOptions {
  /** The root of the process tree to watch; its descendants are included. */
  pid: number;
  /**
   * Whether to look for descendants (with `pidtree`, which runs `ps`).
   *
   * @default {true}
   */
  tree?: boolean;
  /**
   * How often the descendant list is refreshed, ms. Reading `/proc` for the
   * known pids is synchronous and cheap; finding them runs `ps`, so it is done
   * in the background at this pace.
   *
   * @default {2000}
   */
  refreshMs?: number;
}

/**
 * Cumulative CPU and current memory of a tree: two readings give the CPU of
 * the span between them (see {@linkcode usageBetween}).
 */
export interface ResourceReading {
  /** When it was read, epoch ms. */
  time: number;
  /** User CPU seconds used by the tree since the monitor started. */
  userSeconds: number;
  /** System CPU seconds used by the tree since the monitor started. */
  systemSeconds: number;
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Virtual size now, bytes (NaN when not known). */
  vszBytes: number;
  /** Processes in the tree now. */
  processes: number;
}

/** CPU over a span plus memory at its end, with the user/system split. */
export interface ResourceUsageSample extends ResourceSample {
  /** User CPU over the span, % of one core. */
  userPercent: number;
  /** System CPU over the span, % of one core. */
  systemPercent: number;
}

/**
 * CPU between two readings (% of one core) and memory at the later one.
 *
 * @param from The earlier reading.
 * @param to The later reading.
 * @returns The span's usage; CPU is 0 for an empty span.
 *
 * @example Usage
 * ```ts
 * import { usageBetween } from "./resource_monitor.ts";
 * const a = { time: 0, userSeconds: 1, systemSeconds: 0, rssBytes: 1, vszBytes: 2, processes: 1 };
 * const b = { ...a, time: 2000, userSeconds: 2, systemSeconds: 0.5 };
 * console.log(usageBetween(a, b).cpuPercent); // 75
 * ```
 */
export function usageBetween(from: ResourceReading, to: ResourceReading): ResourceUsageSample {
  const seconds = (to.time - from.time) / 1000;
  const pct = (s: number) => seconds > 0 ? Math.max(0, s) / seconds * 100 : 0;
  const userPercent = pct(to.userSeconds - from.userSeconds);
  const systemPercent = pct(to.systemSeconds - from.systemSeconds);
  return {
    time: to.time,
    cpuPercent: userPercent + systemPercent,
    userPercent,
    systemPercent,
    rssBytes: to.rssBytes,
    vszBytes: to.vszBytes,
  };
}

interface ProcStat {
  ticksUser: number;
  ticksSys: number;
  vszBytes: number;
  rssPages: number;
}

let clockTicks: number | undefined;
let pageSize: number | undefined;

function getconf(name: string, fallback: number): number {
  try {
    const out = new Deno.Command("getconf", { args: [name], stdout: "piped", stderr: "null" })
      .outputSync();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return out.success && Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Whether `/proc` can be read here (Linux).
 *
 * @returns True when per-process CPU and memory figures are available.
 */
export function procAvailable(): boolean {
  try {
    Deno.statSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads `/proc/<pid>/stat`: CPU ticks, VSZ and RSS. The command name may hold
 * spaces and parentheses, so fields are counted after its last `)`.
 *
 * @param pid The process.
 * @returns The figures, or undefined when the process is gone or `/proc` is missing.
 */
function readStat(pid: number | "self"): ProcStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime 15, vsize 23, rss 24.
  return {
    ticksUser: Number(fields[11]),
    ticksSys: Number(fields[12]),
    vszBytes: Number(fields[20]),
    rssPages: Number(fields[21]),
  };
}

/**
 * Samples the CPU and memory of one process tree. Readings are cumulative,
 * so the CPU of any span (one summary line, the whole run) is the difference
 * of two readings.
 *
 * @example Usage
 * ```ts ignore
 * import { ResourceMonitor } from "./resource_monitor.ts";
 * const monitor = new ResourceMonitor({ pid: Deno.pid, tree: false });
 * await monitor.start();
 * await new Promise((r) => setTimeout(r, 100));
 * console.log(monitor.read()?.rssBytes);
 * monitor.close();
 * ```
 */
export class ResourceMonitor {
  readonly #pid: number;
  readonly #tree: boolean;
  readonly #refreshMs: number;
  readonly #available: boolean;
  #pids: number[];
  #last = new Map<number, { user: number; sys: number }>();
  #userTicks = 0;
  #sysTicks = 0;
  #started = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | undefined;
  #closed = false;

  /**
   * Creates a monitor; call {@linkcode start} before sampling.
   *
   * @param options Which tree to watch.
   */
  constructor(options: ResourceMonitorOptions) {
    this.#pid = options.pid;
    this.#tree = options.tree ?? true;
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#available = procAvailable();
    this.#pids = [this.#pid];
  }

  /** Whether figures are available (false where `/proc` is missing). */
  get available(): boolean {
    return this.#available;
  }

  /** The pids currently in the tree. */
  get pids(): readonly number[] {
    return this.#pids;
  }

  /**
   * Finds the tree and takes the baseline reading.
   *
   * @returns Once the baseline is taken.
   */
  async start(): Promise<void> {
    if (!this.#available) return;
    if (clockTicks === undefined) clockTicks = getconf("CLK_TCK", 100);
    if (pageSize === undefined) pageSize = getconf("PAGESIZE", 4096);
    await this.#refresh();
    this.read();
    if (this.#tree) {
      this.#timer = setInterval(() => {
        this.#refreshing ??= this.#refresh().finally(() => this.#refreshing = undefined);
      }, this.#refreshMs);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
  }

  async #refresh(): Promise<void> {
    if (!this.#tree || this.#closed) return;
    try {
      // pidtree runs `ps`, which shows up as our own child: keep only the
      // server's descendants, never a pid of ours.
      const children = await pidtree(this.#pid) as number[];
      const own = new Set<number>([Deno.pid]);
      this.#pids = [this.#pid, ...children.filter((p) => !own.has(p) && isNotPs(p))];
    } catch {
      // The root is gone: keep the last list; readings will skip dead pids.
    }
  }

  /**
   * Reads the tree's CPU used since {@linkcode start} and its memory now.
   * A process that exits takes its last interval's CPU with it (the kernel
   * keeps no figures for a reaped pid), which is negligible for a server.
   *
   * @returns The reading, or undefined where `/proc` is missing or the tree is gone.
   */
  read(): ResourceReading | undefined {
    if (!this.#available) return undefined;
    const now = Date.now();
    let rss = 0;
    let vsz = 0;
    let alive = 0;
    const next = new Map<number, { user: number; sys: number }>();
    for (const pid of this.#pids) {
      const st = readStat(pid);
      if (!st) continue;
      alive++;
      const prev = this.#last.get(pid);
      // The baseline reading only sets the starting point of each pid.
      if (this.#started || prev !== undefined) {
        this.#userTicks += st.ticksUser - (prev?.user ?? 0);
        this.#sysTicks += st.ticksSys - (prev?.sys ?? 0);
      }
      rss += st.rssPages * pageSize!;
      vsz += st.vszBytes;
      next.set(pid, { user: st.ticksUser, sys: st.ticksSys });
    }
    this.#started = true;
    this.#last = next;
    if (alive === 0) return undefined;
    return {
      time: now,
      userSeconds: this.#userTicks / clockTicks!,
      systemSeconds: this.#sysTicks / clockTicks!,
      rssBytes: rss,
      vszBytes: vsz,
      processes: alive,
    };
  }

  /** Stops the background tree refresh. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}

function isNotPs(pid: number): boolean {
  try {
    const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
    return comm !== "ps";
  } catch {
    return false;
  }
}

/**
 * The generator's own CPU (all its threads) and memory: from `/proc/self` on
 * Linux, elsewhere from `process.cpuUsage()` and `Deno.memoryUsage()` (VSZ is
 * then NaN: not known).
 *
 * @example Usage
 * ```ts
 * import { SelfMonitor } from "./resource_monitor.ts";
 * const self = new SelfMonitor();
 * console.log(self.read().rssBytes > 0); // true
 * ```
 */
export class SelfMonitor {
  #proc: ResourceMonitor | undefined;
  #base = process.cpuUsage();

  /** Creates the monitor and takes its baseline. */
  constructor() {
    if (procAvailable()) {
      if (clockTicks === undefined) clockTicks = getconf("CLK_TCK", 100);
      if (pageSize === undefined) pageSize = getconf("PAGESIZE", 4096);
      this.#proc = new ResourceMonitor({ pid: Deno.pid, tree: false });
      this.#proc.read();
    }
  }

  /**
   * CPU used since construction and memory now.
   *
   * @returns The reading.
   */
  read(): ResourceReading {
    const r = this.#proc?.read();
    if (r) return r;
    const cpu = process.cpuUsage(this.#base);
    return {
      time: Date.now(),
      userSeconds: cpu.user / 1e6,
      systemSeconds: cpu.system / 1e6,
      rssBytes: Deno.memoryUsage().rss,
      vszBytes: NaN,
      processes: 1,
    };
  }

  /**
   * Total CPU this process used since construction, µs (user+system, all
   * threads), from the finer `getrusage` clock.
   *
   * @returns Microseconds.
   */
  cpuMicros(): number {
    const u = process.cpuUsage(this.#base);
    return u.user + u.system;
  }
}
