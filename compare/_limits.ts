/**
 * OS limits a connection sweep runs into: open files (RLIMIT_NOFILE, raised
 * through libc when allowed) and the local port range. Private to `compare/`;
 * Linux reads `/proc` and calls libc, elsewhere the limits are unknown.
 *
 * @module
 */

/** Soft and hard open-file limits. */
export interface FileLimit {
  /** The limit in force. */
  soft: number;
  /** The most the soft limit may be raised to without privilege. */
  hard: number;
}

const RLIMIT_NOFILE = 7; // Linux x86_64 and aarch64

/**
 * Reads this process's open-file limits (children inherit them).
 *
 * @returns The limits, or undefined where unknown.
 */
export function fileLimit(): FileLimit | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    if (!m) return undefined;
    const n = (s: string) => s === "unlimited" ? Infinity : Number(s);
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Raises the soft open-file limit to `wanted` (and the hard one too when
 * privileged), so this process and the servers it starts can hold that many.
 *
 * @param wanted Open files needed.
 * @returns The limits afterwards, or undefined where unknown.
 */
export function raiseFileLimit(wanted: number): FileLimit | undefined {
  const before = fileLimit();
  if (!before || before.soft >= wanted || Deno.build.os !== "linux") return before;
  let lib: Deno.DynamicLibrary<{ setrlimit: { parameters: ["i32", "buffer"]; result: "i32" } }>;
  try {
    lib = Deno.dlopen("libc.so.6", {
      setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    });
  } catch {
    return before;
  }
  try {
    const set = (soft: number, hard: number) => {
      const buf = new BigUint64Array([BigInt(soft), BigInt(hard)]);
      return lib.symbols.setrlimit(RLIMIT_NOFILE, new Uint8Array(buf.buffer)) === 0;
    };
    const hard = Number.isFinite(before.hard) ? before.hard : wanted;
    // Raising the hard limit needs CAP_SYS_RESOURCE; try it, then fall back to the hard limit.
    if (wanted > hard && set(wanted, wanted)) return fileLimit();
    set(Math.min(wanted, hard), hard);
    return fileLimit();
  } finally {
    lib.close();
  }
}

/**
 * The ephemeral port range: how many connections one client address can
 * open to one server port.
 *
 * @returns `[low, high]`, or undefined where unknown.
 */
export function localPortRange(): [number, number] | undefined {
  try {
    const [lo, hi] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range")
      .trim().split(/\s+/).map(Number);
    return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : undefined;
  } catch {
    return undefined;
  }
}
