/**
 * The local port range a connection sweep runs into (the open-file limit is
 * raised by `raiseFileLimit` in `servers/os/socket.ts`). Private to
 * `compare/`; where `/proc` is missing the range is unknown.
 *
 * @module
 */

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
