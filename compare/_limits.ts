/**
 * OS limits a connection sweep runs into: open files (raised through the
 * servers' libc layer when allowed) and the local port range. Private to
 * `compare/`; where `/proc` is missing the limits are unknown.
 *
 * @module
 */
import { libcUnavailableReason } from "../servers/os/libc.ts";
import { type FileLimit, setFileLimit } from "../servers/os/socket.ts";

export type { FileLimit };

/**
 * Raises the soft open-file limit to the hard limit (children inherit it), so
 * this process and the servers it starts can hold as many sockets as allowed.
 *
 * @returns The limits afterwards, or undefined where unknown.
 */
export function raiseFileLimit(): FileLimit | undefined {
  if (libcUnavailableReason() === undefined) {
    try {
      return setFileLimit();
    } catch {
      // Keep the limit in force; the caller reports what it is.
    }
  }
  return undefined;
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
