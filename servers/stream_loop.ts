/**
 * The `stream` model on echokit's own event loop (`serve --mode stream`, the
 * default engine): the same async/await `read → write → read …` loop as
 * `stream.ts`, over {@linkcode StreamReader}/{@linkcode StreamWriter} on the
 * protocol loop — how asyncio runs its streams over `asyncio.Protocol`.
 *
 * The loop worker imports this module and serves {@linkcode createProtocol}.
 *
 * @module
 */
import { streamProtocol } from "./protocol/streams.ts";

/** Bytes read at once per connection. */
const READ_SIZE = 16 * 1024;

/**
 * One echo per connection: read, write it all back, read again. The write
 * waits only while the peer is not reading its echoes (the write buffer is
 * above its high water mark), so a client that never reads stalls its own
 * loop, and the server buffers at most one high water mark per connection.
 */
export const createProtocol = streamProtocol(async (reader, writer) => {
  const buf = new Uint8Array(READ_SIZE);
  while (true) {
    const n = await reader.read(buf);
    if (n === null) break; // EOF: everything read has been written back.
    await writer.write(buf.subarray(0, n));
  }
});
