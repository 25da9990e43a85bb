/**
 * Test support for the protocol loop, shared by the protocol and stream
 * tests: a server per test, and the check that a client that never reads
 * cannot grow the server's memory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connectLocal, readToEnd, waitFor, writeUntilStalled } from "../testing.ts";
import { createProtocolServer, type ProtocolServer, type ProtocolServerOptions } from "./server.ts";

/**
 * Runs `fn` against a protocol-loop server on a free loopback port, then closes it.
 *
 * @param options The protocol module, its factory and the mode.
 * @param fn The test body.
 */
export async function withProtocolServer(
  options: Pick<ProtocolServerOptions, "protocol" | "factory" | "mode">,
  fn: (server: ProtocolServer) => Promise<void>,
): Promise<void> {
  const server = await createProtocolServer({ ...options, port: 0, onWarning: () => {} });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/**
 * A client that writes `fill` bytes and never reads: its writes stall, the
 * echo's writer pauses and reading pauses, the write buffer stays within
 * 128 KiB (high water plus one read), and reading everything back returns
 * every byte and resumes the writer.
 *
 * @param server A server whose protocol echoes.
 * @param fill The byte the client writes.
 */
export async function checkNeverReadingClient(server: ProtocolServer, fill: number): Promise<void> {
  const conn = await connectLocal(server.addr.port);
  try {
    let { written, stalled } = await writeUntilStalled(conn, fill);
    assert.ok(stalled, "the server kept reading a client that never reads");
    const s = server.stats();
    assert.ok(s.writePauses >= 1, `pauseWriting() calls: ${s.writePauses}`);
    assert.ok(s.readPauses >= 1, `pauseReading() calls: ${s.readPauses}`);
    assert.ok(s.peakWriteBuffer <= 128 * 1024, `peak write buffer ${s.peakWriteBuffer} B`);
    assert.ok(s.peakWriteBuffer > 0);
    const reader = readToEnd(conn);
    written += await stalled;
    await conn.closeWrite();
    const back = await reader;
    assert.equal(back.length, written);
    assert.ok(back.every((b) => b === fill));
    assert.ok(await waitFor(() => server.stats().writeResumes >= 1, 2000));
  } finally {
    conn.close();
  }
}
