import { listenError } from "./_listen_error.ts";
import { listenTcp, type TcpListenerFd } from "./os/socket.ts";
import { DEFAULT_BACKLOG, type ServeOptions } from "./types.ts";

/**
 * Binds the non-blocking listening socket of an FFI mode (`blocking`,
 * `nonblocking`), turning a failed bind into the same user-facing error the
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
