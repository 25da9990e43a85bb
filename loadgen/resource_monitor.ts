/**
 * CPU and memory of a process tree: the server under test (its pid and every
 * descendant, found by `servers/process_tree.ts`: `/proc` on Linux, `pidtree`
 * elsewhere) and the generator itself. Each process is
 * read with `servers/proc_stats.ts`, echokit's one `/proc` reader. Where
 * `/proc` is missing the monitor says so (undefined figures), it never
 * estimates.
 *
 * @module
 */
import process from "node:process";
import { readProcStat, readSelfUsage } from "../servers/proc_stats.ts";
import { descendants } from "../servers/process_tree.ts";
import type { ResourceSample } from "./types.ts";

/** Options for {@linkcode ResourceMonitor}. */
export interface ResourceMonitorOptions {
  /** The root of the process tree to watch; its descendants are included. */
  pid: number;
  /**
   * Whether to look for descendants (`/proc` on Linux, else `pidtree`, which runs `ps`).
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
  /**
   * Told once when the descendants cannot be found (the figures then cover the
   * processes found so far).
   *
   * @default {a `warning: …` line on stderr}
   */
  onWarning?: (message: string) => void;
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

/**
 * Whether `/proc` can be read here (Linux).
 *
 * @returns True when per-process CPU and memory figures are available.
 */
export function procAvailable(): boolean {
  return readProcStat(Deno.pid) !== undefined;
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
  #last = new Map<number, { userMs: number; systemMs: number }>();
  #userMs = 0;
  #systemMs = 0;
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
    this.#onWarning = options.onWarning ?? ((m) => console.error(`warning: ${m}`));
  }

  #onWarning: (message: string) => void;
  #warned = false;

  #warnOnce(err: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    const why = err instanceof Error ? err.message : String(err);
    this.#onWarning(
      `cannot list the processes under pid ${this.#pid} (${why}); ` +
        "CPU and memory cover the processes found so far",
    );
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
      const children = await descendants(this.#pid);
      this.#pids = [this.#pid, ...children];
    } catch (err) {
      // pidtree also fails when the root is gone; /proc gives an empty list then.
      if (Deno.build.os === "linux" || readProcStat(this.#pid) !== undefined) this.#warnOnce(err);
      // Keep the last list; readings skip dead pids.
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
    const next = new Map<number, { userMs: number; systemMs: number }>();
    for (const pid of this.#pids) {
      const st = readProcStat(pid);
      if (!st) continue;
      alive++;
      const prev = this.#last.get(pid);
      // The baseline reading only sets the starting point of each pid.
      if (this.#started || prev !== undefined) {
        this.#userMs += st.userMs - (prev?.userMs ?? 0);
        this.#systemMs += st.systemMs - (prev?.systemMs ?? 0);
      }
      rss += st.rssBytes;
      vsz += st.vszBytes;
      next.set(pid, { userMs: st.userMs, systemMs: st.systemMs });
    }
    this.#started = true;
    this.#last = next;
    if (alive === 0) return undefined;
    return {
      time: now,
      userSeconds: this.#userMs / 1000,
      systemSeconds: this.#systemMs / 1000,
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

/**
 * The generator's own CPU (all its threads) and memory, from
 * `readSelfUsage()`: `/proc/self` on Linux, elsewhere `process.cpuUsage()`
 * and `Deno.memoryUsage()` (VSZ is then NaN: not known).
 *
 * @example Usage
 * ```ts
 * import { SelfMonitor } from "./resource_monitor.ts";
 * const self = new SelfMonitor();
 * console.log(self.read().rssBytes > 0); // true
 * ```
 */
export class SelfMonitor {
  #base = readSelfUsage();
  #baseCpu = process.cpuUsage();

  /**
   * CPU used since construction and memory now.
   *
   * @returns The reading.
   */
  read(): ResourceReading {
    const now = readSelfUsage();
    return {
      time: Date.now(),
      userSeconds: (now.userMs - this.#base.userMs) / 1000,
      systemSeconds: (now.systemMs - this.#base.systemMs) / 1000,
      rssBytes: now.rssBytes,
      vszBytes: now.vszBytes ?? NaN,
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
    const u = process.cpuUsage(this.#baseCpu);
    return u.user + u.system;
  }
}
