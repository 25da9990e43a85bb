/**
 * Whether several processes can share a listening port here. Only Linux
 * spreads connections over `SO_REUSEPORT` listeners: macOS and the BSDs
 * accept the option but hand connections to one socket, Deno ignores it off
 * Linux, and Windows has no such option.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";

/**
 * Throws unless this process can listen with `SO_REUSEPORT` in this mode.
 *
 * @param what What needs it, for the message (`--processes 2`).
 * @param needsUnstableNet Whether the mode listens through `Deno.listen`,
 *   whose `reusePort` needs `--unstable-net` (without it Deno exits the
 *   process instead of throwing, so it is checked first).
 * @throws {EchokitError} Off Linux, or without `--unstable-net` where needed.
 */
export function checkReusePort(what: string, needsUnstableNet: boolean): void {
  if (Deno.build.os !== "linux") {
    throw new EchokitError(
      `${what} needs SO_REUSEPORT load balancing, which only Linux has (this is ${Deno.build.os}; run one server per port instead)`,
    );
  }
  // Deno.listenDatagram exists only when the unstable net APIs are on.
  if (
    needsUnstableNet && typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function"
  ) {
    throw new EchokitError(
      `${what} needs Deno's --unstable-net flag (run with --unstable-net, or with echokit's deno.json as config)`,
    );
  }
}
