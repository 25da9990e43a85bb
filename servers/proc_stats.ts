/**
 * CPU time and memory of a process, read from Linux `/proc`: the one place
 * echokit reads `/proc/<pid>/stat` and `/proc/<pid>/statm`. Every reader
 * returns `undefined` where `/proc` is missing (macOS) or the process is gone,
 * so callers print "n/a" instead of asking which OS they are on.
 *
 * `serve --stats-interval` samples its own process with it; the load
 * generator's resource monitor samples the server's process tree with it.
 *
 * @example Usage
 * ```ts ignore
 * import { cpuPercent, readProcMemory, readProcStat } from "./proc_stats.ts";
 * const before = readProcStat(Deno.pid);
 * await new Promise((r) => setTimeout(r, 1000));
 * const after = readProcStat(Deno.pid);
 * if (before && after) console.log(cpuPercent(before, after, 1000), readProcMemory(Deno.pid));
 * ```
 *
 * @module
 */
import { nodeProcess } from "./_node_process.ts";

/** CPU times and a few facts about one process, from `/proc/<pid>/stat`. */
export interface ProcStat {
  /** The process id. */
  pid: number;
  /** Parent process id. */
  ppid: number;
  /** Kernel state letter (`R` running, `S` sleeping, `Z` zombie, …). */
  state: string;
  /** CPU time in user mode, ms (all threads, so Workers count). */
  userMs: number;
  /** CPU time in kernel mode, ms (all threads). */
  systemMs: number;
  /** Threads in the process. */
  threads: number;
  /** Virtual memory size, bytes. */
  vszBytes: number;
  /** Resident set size, bytes. */
  rssBytes: number;
}

/** Memory of one process, from `/proc/<pid>/statm`. */
export interface ProcMemory {
  /** Virtual memory size, bytes. */
  vszBytes: number;
  /** Resident set size, bytes. */
  rssBytes: number;
}

/** CPU times, in the form {@linkcode cpuPercent} takes. */
export interface CpuTimes {
  /** CPU time in user mode, ms. */
  userMs: number;
  /** CPU time in kernel mode, ms. */
  systemMs: number;
}

// auxv entry types (linux/auxvec.h).
const AT_PAGESZ = 6;
const AT_CLKTCK = 17;
let auxv: Map<number, number> | null | undefined;

// The kernel hands every process its clock tick and page size in the aux
// vector; reading it avoids spawning `getconf` (and needing --allow-run).
function readAuxv(): Map<number, number> | null {
  if (auxv !== undefined) return auxv;
  try {
    const bytes = Deno.readFileSync("/proc/self/auxv");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const map = new Map<number, number>();
    for (let off = 0; off + 16 <= bytes.length; off += 16) {
      const type = Number(view.getBigUint64(off, true));
      if (type === 0) break;
      map.set(type, Number(view.getBigUint64(off + 8, true)));
    }
    auxv = map;
  } catch {
    auxv = null;
  }
  return auxv;
}

/**
 * Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of CPU times in
 * `/proc/<pid>/stat`.
 *
 * @returns Ticks per second; 100 (the Linux value on every common platform)
 * when the aux vector cannot be read.
 *
 * @example Usage
 * ```ts
 * import { clockTicksPerSecond } from "./proc_stats.ts";
 * console.log(clockTicksPerSecond()); // 100 on Linux
 * ```
 */
export function clockTicksPerSecond(): number {
  return readAuxv()?.get(AT_CLKTCK) || 100;
}

/**
 * The memory page size, the unit of `/proc/<pid>/statm` and of RSS in
 * `/proc/<pid>/stat` (4 KiB on x86_64, often 16 or 64 KiB on aarch64).
 *
 * @returns Bytes per page; 4096 when the aux vector cannot be read.
 *
 * @example Usage
 * ```ts
 * import { pageSize } from "./proc_stats.ts";
 * console.log(pageSize() % 4096); // 0
 * ```
 */
export function pageSize(): number {
  return readAuxv()?.get(AT_PAGESZ) || 4096;
}

/**
 * Parses the text of `/proc/<pid>/stat`.
 *
 * The command name (field 2) is in parentheses and may itself contain spaces
 * and parentheses, so fields are counted from the last `)`.
 *
 * @param text The file's contents.
 * @param ticksPerSecond Clock ticks per second. @default {clockTicksPerSecond()}
 * @param pageBytes Page size in bytes. @default {pageSize()}
 * @returns The parsed figures, or undefined when the text is not a stat line.
 *
 * @example Usage
 * ```ts
 * import { parseProcStat } from "./proc_stats.ts";
 * const line = "42 (deno) S 1 42 42 0 -1 0 0 0 0 0 150 50 0 0 20 0 7 0 100 1048576 256";
 * console.log(parseProcStat(line, 100, 4096)?.userMs); // 1500
 * ```
 */
export function parseProcStat(
  text: string,
  ticksPerSecond: number = clockTicksPerSecond(),
  pageBytes: number = pageSize(),
): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // fields[0] is field 3 (state) in proc(5) numbering.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  if (fields.length < 22) return undefined;
  const field = (n: number) => Number(fields[n - 3]);
  const msPerTick = 1000 / ticksPerSecond;
  const stat: ProcStat = {
    pid,
    ppid: field(4),
    state: fields[0],
    userMs: field(14) * msPerTick,
    systemMs: field(15) * msPerTick,
    threads: field(20),
    vszBytes: field(23),
    rssBytes: field(24) * pageBytes,
  };
  return Object.values(stat).every((v) => typeof v === "string" || Number.isFinite(v))
    ? stat
    : undefined;
}

/**
 * Reads a process's CPU times, thread count and memory from `/proc/<pid>/stat`.
 *
 * @param pid The process; its Workers are threads of it, so they are included.
 * @returns The figures, or undefined where `/proc` is missing or the process is gone.
 *
 * @example Usage
 * ```ts ignore
 * import { readProcStat } from "./proc_stats.ts";
 * console.log(readProcStat(Deno.pid)?.threads);
 * ```
 */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/**
 * Reads a process's virtual and resident size from `/proc/<pid>/statm`.
 *
 * @param pid The process.
 * @returns Sizes in bytes, or undefined where `/proc` is missing or the process is gone.
 *
 * @example Usage
 * ```ts ignore
 * import { readProcMemory } from "./proc_stats.ts";
 * console.log(readProcMemory(Deno.pid)?.rssBytes);
 * ```
 */
export function readProcMemory(pid: number): ProcMemory | undefined {
  try {
    const [size, resident] = Deno.readTextFileSync(`/proc/${pid}/statm`).trim().split(/\s+/)
      .map(Number);
    if (!Number.isFinite(size) || !Number.isFinite(resident)) return undefined;
    const page = pageSize();
    return { vszBytes: size * page, rssBytes: resident * page };
  } catch {
    return undefined;
  }
}

/**
 * CPU use between two readings, as `top` shows it: user+system time as a
 * percentage of one core (200 means two cores busy).
 *
 * @param prev The earlier reading.
 * @param next The later reading.
 * @param elapsedMs Wall-clock time between them, ms.
 * @returns The percentage; 0 when no time elapsed.
 *
 * @example Usage
 * ```ts
 * import { cpuPercent } from "./proc_stats.ts";
 * const prev = { userMs: 1000, systemMs: 500 };
 * const next = { userMs: 1300, systemMs: 700 };
 * console.log(cpuPercent(prev, next, 1000)); // 50
 * ```
 */
export function cpuPercent(prev: CpuTimes, next: CpuTimes, elapsedMs: number): number {
  if (!(elapsedMs > 0)) return 0;
  const used = (next.userMs - prev.userMs) + (next.systemMs - prev.systemMs);
  return Math.max(0, used) / elapsedMs * 100;
}

/** This process's own CPU times and memory, measured wherever it runs. */
export interface SelfUsage extends CpuTimes {
  /** Resident set size, bytes. */
  rssBytes: number;
  /** Virtual size, bytes; undefined without `/proc` (macOS). */
  vszBytes?: number;
}

/**
 * This process's CPU times and memory: from `/proc/self` on Linux; elsewhere
 * from `getrusage` (via `process.cpuUsage`) and `Deno.memoryUsage`, which
 * have no virtual size.
 *
 * @returns The current reading.
 *
 * @example Usage
 * ```ts
 * import { readSelfUsage } from "./proc_stats.ts";
 * console.log(readSelfUsage().rssBytes > 0); // true
 * ```
 */
export function readSelfUsage(): SelfUsage {
  const stat = readProcStat(Deno.pid);
  if (stat) {
    return {
      userMs: stat.userMs,
      systemMs: stat.systemMs,
      rssBytes: stat.rssBytes,
      vszBytes: stat.vszBytes,
    };
  }
  const cpu = nodeProcess()?.cpuUsage() ?? { user: NaN, system: NaN };
  return { userMs: cpu.user / 1000, systemMs: cpu.system / 1000, rssBytes: Deno.memoryUsage().rss };
}
