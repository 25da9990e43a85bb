import { UsageError } from "../util/errors.ts";
import { listenError } from "./_listen_error.ts";
import * as libc from "./os/libc.ts";
import { isIpv4Host, listenTcp, type TcpListenerFd } from "./os/socket.ts";
import { DEFAULT_BACKLOG, type ServeOptions } from "./types.ts";

/** How {@linkcode ffiBindAddress}'s errors name the server. */
export interface FfiServerNames {
  /** The server in the IPv4 error: `Mode "uring"`, `The stream loop`. */
  what: string;
  /** The server in the no-libc error. @default {what} */
  needsLibc?: string;
  /** What to use for an IPv6 host, if anything: `--engine node`. */
  instead?: string;
}

/**
 * The checks every FFI mode makes before it binds: libc is usable, and the
 * host is IPv4 (their socket layer builds IPv4 addresses only).
 *
 * @param options The server's options (hostname, port).
 * @param names How the errors name the server.
 * @returns The host (default 127.0.0.1) and port (default 0) to bind.
 * @throws {LibcUnavailable} Without FFI or libc.
 * @throws {UsageError} For a host that is not IPv4.
 */
export function ffiBindAddress(
  options: { hostname?: string; port?: number },
  names: FfiServerNames,
): { hostname: string; port: number } {
  libc.requireLibc(names.needsLibc ?? names.what);
  const hostname = options.hostname ?? "127.0.0.1";
  if (!isIpv4Host(hostname)) {
    throw new UsageError(
      `${names.what} binds IPv4 only, not "${hostname}" (use an IPv4 address such as 127.0.0.1${
        names.instead ? `, or ${names.instead}` : ""
      })`,
    );
  }
  return { hostname, port: options.port ?? 0 };
}

/**
 * Binds the non-blocking listening socket of an FFI mode (`blocking`,
 * `nonblocking`, `uring`, the protocol loop), turning a failed bind into the same user-facing error the
 * other modes give.
 *
 * @param options The server's options (backlog, reusePort).
 * @param hostname Host to bind.
 * @param port Port to bind (0: the OS picks).
 * @returns The listening socket.
 */
export function listenForServer(
  options: ServeOptions,
  hostname: string,
  port: number,
): TcpListenerFd {
  try {
    return listenTcp({
      hostname,
      port,
      backlog: options.backlog ?? DEFAULT_BACKLOG,
      nonblocking: true,
      reusePort: options.reusePort === true,
    });
  } catch (err) {
    throw listenError(err, hostname, port);
  }
}
