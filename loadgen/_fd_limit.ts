/**
 * Raises (never lowers) the open-files limit for the generator's sockets.
 * Private to `loadgen/`.
 *
 * @module
 */
import * as libc from "../servers/os/libc.ts";
import { setFileLimit } from "../servers/os/socket.ts";

/**
 * Makes sure at least `wanted` fds may be open: every virtual user holds a
 * socket and the usual soft limit (1024) is below plan1's 1000 users plus the
 * runtime's own. A higher limit is left alone (other code in this process may
 * rely on it). Failures are ignored: running out then shows as connect errors.
 *
 * @param wanted The soft limit needed.
 */
export function raiseFileLimit(wanted: number): void {
  if (libc.libcUnavailableReason() !== undefined) return;
  try {
    const rl = new BigUint64Array(2);
    if (libc.getrlimit(libc.platform().RLIMIT_NOFILE, new Uint8Array(rl.buffer)) < 0) return;
    if (rl[0] >= BigInt(wanted)) return;
    setFileLimit(wanted);
  } catch {
    // Keep the current limit.
  }
}
