/**
 * The echo server on the protocol API: what `serve --mode protocol` runs.
 * Writes each chunk straight back, and stops reading while the peer is not
 * reading its echoes (the write buffer is above the high water mark).
 *
 * @module
 */
import type { Protocol, Transport } from "./types.ts";

/**
 * One echo protocol per connection.
 *
 * @returns The protocol.
 *
 * @example Usage
 * ```ts ignore
 * import { createProtocolServer } from "./server.ts";
 * const server = await createProtocolServer({ protocol: new URL("./echo.ts", import.meta.url) });
 * await server.close();
 * ```
 */
export function createProtocol(): Protocol {
  let transport!: Transport;
  return {
    connectionMade: (t) => transport = t,
    dataReceived: (data) => transport.write(data),
    pauseWriting: () => transport.pauseReading(),
    resumeWriting: () => transport.resumeReading(),
  };
}
