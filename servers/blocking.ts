import { EchokitError } from "../errors.ts";
import type { EchoServer, ServeOptions } from "./types.ts";

/**
 * Starts a `blocking` echo server (not built yet).
 *
 * @param _options Where to listen.
 * @returns Never: this mode is not built yet.
 */
export function serveBlocking(_options: ServeOptions): Promise<EchoServer> {
  return Promise.reject(new EchokitError('Mode "blocking" is not built yet'));
}
