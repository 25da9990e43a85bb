/**
 * The protocol API, shaped after Python's `asyncio.Protocol` and
 * `asyncio.Transport`: the loop owns the socket and calls a {@linkcode Protocol}
 * on events; the protocol answers through its {@linkcode Transport}.
 *
 * @module
 */

/** An IPv4 address and port. */
export interface TransportAddr {
  /** Dotted-quad host. */
  hostname: string;
  /** Port. */
  port: number;
}

/** The write buffer's high and low water marks, in bytes. */
export interface WriteBufferLimits {
  /** Above it (after a write), the protocol's `pauseWriting()` is called. @default {65536} */
  high?: number;
  /** Drained to it or below, `resumeWriting()` is called. @default {high / 4} */
  low?: number;
}

/** One connection's socket, as the protocol sees it. */
export interface Transport {
  /**
   * Sends bytes: at once as far as the kernel takes them, the rest is copied
   * into the write buffer and sent when the socket is writable. Ignored once
   * the transport is closing.
   */
  write(data: Uint8Array): void;
  /** Closes after the write buffer is flushed; no more data is received. */
  close(): void;
  /** Closes now: the write buffer is dropped and the peer sees a reset. */
  abort(): void;
  /** Stops calling `dataReceived` until {@linkcode Transport.resumeReading}. */
  pauseReading(): void;
  /** Calls `dataReceived` again as data arrives. */
  resumeReading(): void;
  /** Whether `dataReceived` is being called (not paused, not closing). */
  isReading(): boolean;
  /** Bytes waiting in the write buffer. */
  getWriteBufferSize(): number;
  /** Sets the water marks (asyncio's defaults: high 64 KiB, low = high / 4). */
  setWriteBufferLimits(limits?: WriteBufferLimits): void;
  /** The water marks in force. */
  getWriteBufferLimits(): Required<WriteBufferLimits>;
  /** Whether `close()` or `abort()` was called or the connection is lost. */
  isClosing(): boolean;
  /** The peer's address (`getpeername`). */
  getPeerName(): TransportAddr;
  /** This socket's own address (`getsockname`). */
  getSockName(): TransportAddr;
}

/**
 * What a user writes: callbacks the loop calls for one connection. Only
 * `dataReceived` is required.
 */
export interface Protocol {
  /** The connection is open; keep the transport to write on it. */
  connectionMade?(transport: Transport): void;
  /**
   * Bytes arrived. The view is the loop's reused read buffer and is only
   * valid during this call: copy what must be kept (`write` copies itself).
   */
  dataReceived(data: Uint8Array): void;
  /**
   * The peer shut its write side. Return true to keep this side open (then
   * call `close()` when done); otherwise the transport closes (flushing first).
   */
  eofReceived?(): boolean | void;
  /** The connection is closed; `error` says why when it was not a clean close. */
  connectionLost?(error?: Error): void;
  /** The write buffer went above the high water mark. */
  pauseWriting?(): void;
  /** The write buffer drained to the low water mark. */
  resumeWriting?(): void;
}

/** Makes one {@linkcode Protocol} per connection. */
export type ProtocolFactory = () => Protocol;

/** asyncio's default high water mark: 64 KiB. */
export const DEFAULT_HIGH_WATER = 64 * 1024;
