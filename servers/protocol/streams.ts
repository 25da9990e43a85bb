/**
 * Streams over the protocol API, as asyncio's `StreamReader`/`StreamWriter`
 * sit over `asyncio.Protocol`: {@linkcode streamProtocol} turns an async
 * `(reader, writer) => …` handler into a {@linkcode ProtocolFactory}, so
 * plain async/await code runs on echokit's own event loop.
 *
 * The reader and writer have the shape of `Deno.Conn`'s `read(buf)` and
 * `write(buf)`, so the same loop runs on either:
 *
 * ```ts ignore
 * while (true) {
 *   const n = await reader.read(buf);
 *   if (n === null) break;
 *   await writer.write(buf.subarray(0, n));
 * }
 * ```
 *
 * What the layer adds to a callback: one promise per `read` that has to wait,
 * and a copy from the loop's shared read buffer into the caller's. Bytes that
 * arrive while no read waits are kept (up to twice the reader's limit, then
 * reading pauses, as asyncio does); `write` sends at once through the
 * transport and only waits while the write buffer is above its high water
 * mark (asyncio's `write()` then `drain()`).
 *
 * @module
 */
import type { Protocol, ProtocolFactory, Transport } from "./types.ts";
import { markParked, markRunnable } from "./_runnable.ts";

/**
 * Whether one connection's handler has a result it has not taken up yet
 * (see `_runnable.ts`): set when a promise it waits on settles, cleared when
 * it waits again or ends.
 */
class HandlerState {
  #runnable = false;

  /** A promise the handler waits on has settled. */
  wake(): void {
    if (this.#runnable) return;
    this.#runnable = true;
    markRunnable();
  }

  /** The handler waits on its streams again, or has finished. */
  park(): void {
    if (!this.#runnable) return;
    this.#runnable = false;
    markParked();
  }
}

/**
 * Bytes a reader keeps before it pauses reading is twice this (asyncio's
 * `_DEFAULT_LIMIT`, 64 KiB).
 */
export const DEFAULT_READER_LIMIT = 64 * 1024;

/** Options of {@linkcode streamProtocol}. */
export interface StreamProtocolOptions {
  /**
   * Buffered bytes before reading pauses is twice this.
   *
   * @default {65536}
   */
  limit?: number;
  /** Called when a handler throws or rejects; the connection is aborted. */
  onError?: (error: unknown) => void;
}

const noop = () => {};

/** The read side of one connection. */
export class StreamReader {
  #transport: Transport;
  #state: HandlerState;
  #limit: number;
  /** Bytes received while no read waited: `#pending[#start, #end)`. */
  #pending = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #eof = false;
  #error: Error | undefined;
  /** The waiting read's buffer and settle functions (one read waits at most). */
  #waitBuf: Uint8Array | undefined;
  #resolve: (n: number | null) => void = noop;
  #reject: (e: Error) => void = noop;
  /** Settles a new waiting read: the executor, made once per reader. */
  #wait = (resolve: (n: number | null) => void, reject: (e: Error) => void) => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  /**
   * @param transport The connection's transport.
   * @param state Its handler's state, shared with the writer.
   * @param limit Buffered bytes before reading pauses is twice this.
   */
  constructor(transport: Transport, state: HandlerState, limit = DEFAULT_READER_LIMIT) {
    this.#transport = transport;
    this.#state = state;
    this.#limit = limit;
  }

  /**
   * Reads up to `buf.length` bytes into `buf`.
   *
   * @param buf Where the bytes go.
   * @returns How many bytes were read, or `null` at end of stream.
   * @throws {Error} The connection's error, if it failed.
   */
  read(buf: Uint8Array): Promise<number | null> {
    const buffered = this.#end - this.#start;
    if (buffered > 0) {
      const n = Math.min(buffered, buf.length);
      buf.set(this.#pending.subarray(this.#start, this.#start + n));
      this.#start += n;
      if (this.#start === this.#end) this.#start = this.#end = 0;
      if (buffered - n <= this.#limit) this.#transport.resumeReading();
      return Promise.resolve(n);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#eof) return Promise.resolve(null);
    if (this.#waitBuf) return Promise.reject(new Error("read() called while another read waits"));
    this.#state.park();
    this.#waitBuf = buf;
    return new Promise(this.#wait);
  }

  /** The protocol's `dataReceived`: hands bytes to a waiting read, keeps the rest. */
  feed(data: Uint8Array): void {
    let from = 0;
    const buf = this.#waitBuf;
    if (buf !== undefined && this.#end === this.#start) {
      this.#waitBuf = undefined;
      const n = Math.min(data.length, buf.length);
      buf.set(n === data.length ? data : data.subarray(0, n));
      this.#state.wake();
      this.#resolve(n);
      if (n === data.length) return;
      from = n;
    }
    this.#keep(data, from);
  }

  /** The protocol's `eofReceived`. */
  feedEof(): void {
    this.#eof = true;
    this.#wake();
  }

  /** The protocol's `connectionLost`: a waiting read ends (null, or the error). */
  lost(error?: Error): void {
    if (error) this.#error ??= error;
    this.#eof = true;
    this.#wake();
  }

  #wake(): void {
    if (this.#waitBuf === undefined) return;
    this.#waitBuf = undefined;
    this.#state.wake();
    if (this.#error) this.#reject(this.#error);
    else this.#resolve(null);
  }

  #keep(data: Uint8Array, from: number): void {
    const len = data.length - from;
    if (this.#end + len > this.#pending.length) {
      const used = this.#end - this.#start;
      const grown = new Uint8Array(Math.max(2 * (used + len), 4096));
      grown.set(this.#pending.subarray(this.#start, this.#end));
      this.#pending = grown;
      this.#start = 0;
      this.#end = used;
    }
    this.#pending.set(data.subarray(from), this.#end);
    this.#end += len;
    if (this.#end - this.#start > 2 * this.#limit) this.#transport.pauseReading();
  }
}

/** The write side of one connection. */
export class StreamWriter {
  /** The connection's transport (peer name, write buffer limits, abort). */
  readonly transport: Transport;
  #state: HandlerState;
  #paused = false;
  #drained: (() => void)[] = [];
  #lost: Error | undefined;
  #closed: Promise<void>;
  #markClosed!: () => void;

  /**
   * @param transport The connection's transport.
   * @param state Its handler's state, shared with the reader.
   */
  constructor(transport: Transport, state: HandlerState) {
    this.transport = transport;
    this.#state = state;
    this.#closed = new Promise((r) => this.#markClosed = r);
  }

  /**
   * Writes all of `buf` (sent at once where the kernel takes it, buffered
   * otherwise) and waits only while the write buffer is above its high water
   * mark.
   *
   * @param buf The bytes; copied if they cannot all be sent now.
   * @returns `buf.length`.
   * @throws {Error} When the connection is closing or lost.
   */
  write(buf: Uint8Array): Promise<number> {
    if (this.#lost) return Promise.reject(this.#lost);
    if (this.transport.isClosing()) return Promise.reject(new Error("write() after close()"));
    this.transport.write(buf);
    if (!this.#paused) return Promise.resolve(buf.length);
    this.#state.park();
    return new Promise((resolve) => this.#drained.push(() => resolve(buf.length)));
  }

  /** Flushes what is buffered, then closes the connection. */
  close(): void {
    this.transport.close();
  }

  /** Settles when the connection is gone. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** The protocol's `pauseWriting`. */
  pause(): void {
    this.#paused = true;
  }

  /** The protocol's `resumeWriting`: writes that waited return. */
  resume(): void {
    this.#paused = false;
    const waiting = this.#drained;
    if (waiting.length === 0) return;
    this.#drained = [];
    this.#state.wake();
    for (const done of waiting) done();
  }

  /** The protocol's `connectionLost`. */
  lost(error?: Error): void {
    this.#lost = error ?? new Error("connection closed");
    this.resume();
    this.#markClosed();
  }
}

/**
 * A protocol factory that runs `handler` once per connection with that
 * connection's reader and writer (asyncio's `start_server` callback). When
 * the handler returns, the connection is closed (its writes flushed); when
 * it throws, the connection is aborted.
 *
 * @param handler The per-connection code.
 * @param options The reader's limit and where handler errors go.
 * @returns The factory, to export from a protocol module.
 *
 * @example Usage
 * ```ts ignore
 * import { streamProtocol } from "./streams.ts";
 * export const createProtocol = streamProtocol(async (reader, writer) => {
 *   const buf = new Uint8Array(4096);
 *   for (let n; (n = await reader.read(buf)) !== null;) await writer.write(buf.subarray(0, n));
 * });
 * ```
 */
export function streamProtocol(
  handler: (reader: StreamReader, writer: StreamWriter) => Promise<void>,
  options: StreamProtocolOptions = {},
): ProtocolFactory {
  const limit = options.limit ?? DEFAULT_READER_LIMIT;
  return (): Protocol => {
    let reader!: StreamReader;
    let writer!: StreamWriter;
    return {
      connectionMade(transport) {
        const state = new HandlerState();
        reader = new StreamReader(transport, state, limit);
        writer = new StreamWriter(transport, state);
        handler(reader, writer).then(
          () => {
            state.park();
            transport.close();
          },
          (err) => {
            state.park();
            // A read or write that failed because the connection went is
            // already counted by the loop; only the handler's own errors are news.
            if (!transport.isClosing()) options.onError?.(err);
            transport.abort();
          },
        );
      },
      dataReceived: (data) => reader.feed(data),
      // Keep the write side open: the handler closes when it is done.
      eofReceived() {
        reader.feedEof();
        return true;
      },
      connectionLost(error) {
        reader.lost(error);
        writer.lost(error);
      },
      pauseWriting: () => writer.pause(),
      resumeWriting: () => writer.resume(),
    };
  };
}
