/**
 * Stream handlers the tests of `streams_test.ts` serve, each showing one
 * behaviour of the readers and writers on the protocol loop.
 *
 * @module
 */
import { streamProtocol } from "./streams.ts";

const encoder = new TextEncoder();

/** Waits 5 ms on a timer before each echo: promise code other than the streams. */
export const timerEcho = streamProtocol(async (reader, writer) => {
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await reader.read(buf);
    if (n === null) break;
    await new Promise((r) => setTimeout(r, 5));
    await writer.write(buf.subarray(0, n));
  }
});

/** Echoes until a message starts with `!`, then throws: the connection is aborted. */
export const throwOnBang = streamProtocol(async (reader, writer) => {
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await reader.read(buf);
    if (n === null) break;
    if (buf[0] === 0x21) throw new Error("bang");
    await writer.write(buf.subarray(0, n));
  }
});

/** Reads 3-byte pieces of whatever arrives (bytes kept between reads), then says how many at EOF. */
export const smallReads = streamProtocol(async (reader, writer) => {
  const buf = new Uint8Array(3);
  let pieces = 0;
  while (await reader.read(buf) !== null) pieces++;
  await writer.write(encoder.encode(`pieces=${pieces}\n`));
});
