/**
 * Protocols the tests of `server_test.ts` serve: each shows one transport
 * behaviour on the wire.
 *
 * @module
 */
import type { Protocol, Transport } from "./types.ts";

const encoder = new TextEncoder();

/**
 * Echoes; at EOF keeps the write side open (`eofReceived` returns true),
 * writes `bye\n` and only then closes.
 *
 * @returns The protocol.
 */
export function keepOpenAtEof(): Protocol {
  let t!: Transport;
  return {
    connectionMade: (transport) => t = transport,
    dataReceived: (data) => t.write(data),
    eofReceived() {
      t.write(encoder.encode(t.isReading() ? "still reading\n" : "bye\n"));
      t.close();
      return true;
    },
  };
}

/**
 * On any data: writes 16 MiB to a peer that is not reading (most of it stays
 * buffered), then aborts, dropping the buffer.
 *
 * @returns The protocol.
 */
export function abortWithBufferedData(): Protocol {
  let t!: Transport;
  return {
    connectionMade: (transport) => t = transport,
    dataReceived() {
      t.write(new Uint8Array(16 * 1024 * 1024));
      if (t.getWriteBufferSize() === 0) t.write(encoder.encode("nothing buffered"));
      t.abort();
      t.write(encoder.encode("after abort")); // Ignored: the transport is closing.
    },
  };
}

/** Connections paused by a `pause` line, resumed by a `resume` line on any connection. */
const paused = new Set<Transport>();

/**
 * Echoes; a `pause\n` message pauses reading this connection and answers
 * `PAUSE\n`; a `resume\n` message (on another connection) resumes them all
 * and answers `RESUME\n`.
 *
 * @returns The protocol.
 */
export function pauseGate(): Protocol {
  let t!: Transport;
  return {
    connectionMade: (transport) => t = transport,
    dataReceived(data) {
      const text = new TextDecoder().decode(data);
      if (text === "pause\n") {
        t.pauseReading();
        paused.add(t);
        t.write(encoder.encode(t.isReading() ? "still\n" : "PAUSE\n"));
      } else if (text === "resume\n") {
        for (const other of paused) other.resumeReading();
        paused.clear();
        t.write(encoder.encode("RESUME\n"));
      } else {
        t.write(data);
      }
    },
    connectionLost: () => paused.delete(t),
  };
}

/**
 * Answers each message with the peer's and its own address and the write
 * buffer limits after setting them to high 1000 (low = 250).
 *
 * @returns The protocol.
 */
export function describeTransport(): Protocol {
  let t!: Transport;
  return {
    connectionMade: (transport) => t = transport,
    dataReceived() {
      t.setWriteBufferLimits({ high: 1000 });
      t.write(encoder.encode(JSON.stringify({
        peer: t.getPeerName(),
        sock: t.getSockName(),
        limits: t.getWriteBufferLimits(),
      })));
      t.close();
    },
  };
}

/**
 * Throws from `dataReceived`: the loop aborts this connection only.
 *
 * @returns The protocol.
 */
export function throwing(): Protocol {
  return {
    dataReceived() {
      throw new Error("boom");
    },
  };
}
