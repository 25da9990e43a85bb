/**
 * A line protocol on the protocol API: each `\n`-terminated line comes back
 * uppercased (ASCII letters only, so UTF-8 stays intact). A partial line is
 * kept until its `\n` arrives; at EOF a last unterminated line is answered too,
 * then the connection closes.
 *
 * @module
 */
import type { Protocol, Transport } from "../types.ts";

/**
 * One upper-lines protocol per connection.
 *
 * @returns The protocol.
 *
 * @example Usage
 * ```ts ignore
 * import { createProtocolServer } from "../server.ts";
 * const server = await createProtocolServer({
 *   protocol: new URL("./upper_lines.ts", import.meta.url),
 * });
 * await server.close();
 * ```
 */
export function createProtocol(): Protocol {
  let transport!: Transport;
  let partial: number[] = [];
  const upper = (b: number) => b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
  return {
    connectionMade: (t) => transport = t,
    dataReceived(data) {
      let start = 0;
      for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
        transport.write(Uint8Array.from([...partial, ...data.subarray(start, i + 1)], upper));
        partial = [];
        start = i + 1;
      }
      for (let i = start; i < data.length; i++) partial.push(data[i]);
    },
    eofReceived() {
      if (partial.length > 0) transport.write(Uint8Array.from(partial, upper));
      return false; // Close once the replies are flushed.
    },
    pauseWriting: () => transport.pauseReading(),
    resumeWriting: () => transport.resumeReading(),
  };
}
