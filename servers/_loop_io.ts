/**
 * The OS calls every readiness loop over libc makes, written once: the
 * `nonblocking` echo loop and the `protocol` mode's own event loop both use
 * them. Accepting a burst with an `EMFILE` back-off, `recv`/`send` with their
 * errno folded into three outcomes, the pending-output buffer, and the idle
 * sweep.
 *
 * @module
 */
import { idleSweepInterval } from "./_idle_sweeper.ts";
import * as libc from "./os/libc.ts";
import { type Poller, READABLE } from "./os/poller.ts";
import { acceptConnection, setNoDelay } from "./os/socket.ts";

/** {@linkcode recvSome}: nothing to read now (`EAGAIN`, `EINTR`); wait for readiness. */
export const WOULD_BLOCK = -1;
/** {@linkcode recvSome}/{@linkcode sendSome}: the connection failed (reset, `EPIPE`…); close it. */
export const FAILED = -2;

/** How long to stop accepting after running out of file descriptors. */
export const EMFILE_BACKOFF_MS = 100;

/**
 * One non-blocking `recv`.
 *
 * @param fd A non-blocking socket.
 * @param buf Where the bytes land, from its start.
 * @param len Most bytes to read.
 * @returns Bytes read (> 0), 0 at EOF, {@linkcode WOULD_BLOCK} or {@linkcode FAILED}.
 */
export function recvSome(fd: number, buf: Uint8Array, len: number): number {
  const r = libc.recv(fd, buf, len, 0);
  if (r >= 0) return r;
  const e = libc.errno();
  const p = libc.platform();
  return e === p.EAGAIN || e === p.EINTR ? WOULD_BLOCK : FAILED;
}

/**
 * One non-blocking `send`.
 *
 * @param fd A non-blocking socket.
 * @param buf The bytes, from its start.
 * @param len How many to send.
 * @param flags From {@linkcode sendFlags} (no SIGPIPE).
 * @returns Bytes the kernel took (0 when its buffer is full), or {@linkcode FAILED}.
 */
export function sendSome(fd: number, buf: Uint8Array, len: number, flags: number): number {
  const sent = libc.send(fd, buf, len, flags);
  if (sent >= 0) return sent;
  return libc.errno() === libc.platform().EAGAIN ? 0 : FAILED;
}

/**
 * Bytes the kernel would not take yet, `bytes[start..end)`, in one growable
 * array. A private copy: the loop's read buffer is reused by the next `recv`.
 * Drained, it drops its array, so an idle connection holds no buffer.
 */
export class PendingOutput {
  /** The storage, or null while empty. */
  bytes: Uint8Array | null = null;
  /** First unsent byte. */
  start = 0;
  /** One past the last unsent byte. */
  end = 0;

  /** Bytes waiting. */
  get size(): number {
    return this.end - this.start;
  }

  /**
   * Copies `src[from..to)` to the end.
   *
   * @param src The bytes.
   * @param from First byte to keep.
   * @param to One past the last.
   */
  append(src: Uint8Array, from: number, to: number): void {
    const len = to - from;
    const pending = this.end - this.start;
    if (!this.bytes) {
      this.bytes = new Uint8Array(Math.max(len, 16 * 1024));
    } else if (this.end + len > this.bytes.length) {
      if (pending + len <= this.bytes.length) {
        this.bytes.copyWithin(0, this.start, this.end);
      } else {
        const bigger = new Uint8Array(Math.max(this.bytes.length * 2, pending + len));
        bigger.set(this.bytes.subarray(this.start, this.end));
        this.bytes = bigger;
      }
      this.start = 0;
      this.end = pending;
    }
    this.bytes.set(from === 0 && to === src.length ? src : src.subarray(from, to), this.end);
    this.end += len;
  }

  /**
   * Sends what is waiting, as much as the kernel takes.
   *
   * @param fd The socket.
   * @param flags Send flags.
   * @returns Bytes sent (0: the buffer is still full), or {@linkcode FAILED}.
   */
  flushTo(fd: number, flags: number): number {
    const sent = sendSome(fd, this.bytes!.subarray(this.start, this.end), this.size, flags);
    if (sent > 0) {
      this.start += sent;
      if (this.start === this.end) this.clear();
    }
    return sent;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.bytes = null;
    this.start = this.end = 0;
  }
}

/** What {@linkcode Acceptor} needs. */
export interface AcceptorOptions {
  /** The listening, non-blocking socket. */
  listenFd: number;
  /** The loop's poller; the listener is added to it for reading. */
  poller: Poller;
  /** Most connections open at once; beyond it one is accepted and closed at once. */
  maxConnections: number;
  /** The server's name, for the warning (`nonblocking`). */
  what: string;
  /** Reports the one warning: accept ran out of file descriptors. */
  warn: (message: string) => void;
}

/**
 * Accepts what the listener has queued, in bursts, and survives running out
 * of file descriptors: the listener stays readable then, so a level-triggered
 * loop would spin on it; instead it stops watching it for
 * {@linkcode EMFILE_BACKOFF_MS} and connections wait in the backlog.
 */
export class Acceptor {
  /** Connections accepted (rejected ones included). */
  accepted = 0;
  /** Connections closed at once because `maxConnections` were open. */
  rejected = 0;
  /** Failed accepts, and accepted sockets the poller would not take. */
  errors = 0;
  /** Accepted sockets closed at once because the poller would not take them (counted as closed). */
  dropped = 0;
  /** `Date.now()` until which accepting is paused; 0 when it is not. */
  pausedUntil = 0;
  #options: AcceptorOptions;
  #warned = false;

  /**
   * Starts watching the listener.
   *
   * @param options The listener, poller, cap and warning sink.
   */
  constructor(options: AcceptorOptions) {
    this.#options = options;
    options.poller.add(options.listenFd, READABLE);
  }

  /**
   * The listener is readable: takes every queued connection (until `EAGAIN`),
   * so one wake-up serves a whole burst of connects. Each new socket has
   * `TCP_NODELAY` and is added to the poller for reading.
   *
   * @param open Connections open now (for the cap).
   * @param onAccept Takes the new fd (now counted in `open` by the caller).
   */
  acceptAll(open: number, onAccept: (fd: number) => void): void {
    const { listenFd, poller, maxConnections } = this.#options;
    const p = libc.platform();
    while (true) {
      const fd = acceptConnection(listenFd, true);
      if (fd < 0) {
        const e = libc.errno();
        if (e === p.EAGAIN) return; // The backlog is empty: back to waiting.
        if (e === p.EINTR || e === p.ECONNABORTED) continue; // That one gave up; next.
        this.errors++;
        if (e === p.EMFILE || e === p.ENFILE || e === p.ENOBUFS || e === p.ENOMEM) this.#pause(e);
        return;
      }
      this.accepted++;
      if (open >= maxConnections) {
        // Over the cap: close at once, so the client learns now (EOF)
        // instead of hanging in the backlog.
        libc.close(fd);
        this.rejected++;
        continue;
      }
      setNoDelay(fd);
      if (poller.add(fd, READABLE) < 0) {
        this.errors++;
        this.dropped++;
        libc.close(fd);
        continue;
      }
      open++;
      onAccept(fd);
    }
  }

  /**
   * Watches the listener again once the back-off is over.
   *
   * @param now `Date.now()`.
   */
  resumeIfDue(now: number): void {
    if (this.pausedUntil !== 0 && now >= this.pausedUntil) {
      this.pausedUntil = 0;
      this.#options.poller.add(this.#options.listenFd, READABLE);
    }
  }

  #pause(e: number): void {
    if (!this.#warned) {
      this.#warned = true;
      this.#options.warn(
        `${this.#options.what}: accept failed: ${libc.strerror(e)}; pausing accepts for ` +
          `${EMFILE_BACKOFF_MS} ms at a time (raise the open-files limit: ulimit -n)`,
      );
    }
    this.#options.poller.remove(this.#options.listenFd);
    this.pausedUntil = Date.now() + EMFILE_BACKOFF_MS;
  }
}

/** A connection the idle sweep looks at. */
export interface Sweepable {
  /** When the socket was last ready (the loop's coarse clock, `Date.now()`). */
  lastActive: number;
}

/**
 * The idle timeout with no timer per connection: each connection remembers
 * when it was last ready, by a clock the loop reads once per wake-up (not per
 * message), and every quarter timeout one pass closes those silent for too
 * long. The loop's wait timeout is what wakes it for that pass.
 */
export class IdleSweep {
  /** `Date.now()` of the next pass; `Infinity` without a timeout. */
  next: number;
  #timeout: number;
  #every: number;

  /**
   * @param timeoutMs Idle time after which a connection is closed; 0: never.
   * @param now `Date.now()`.
   */
  constructor(timeoutMs: number, now: number) {
    this.#timeout = timeoutMs;
    this.#every = timeoutMs > 0 ? idleSweepInterval(timeoutMs) : 0;
    this.next = timeoutMs > 0 ? now + this.#every : Infinity;
  }

  /**
   * Calls `onIdle` for each connection silent for the timeout (a client that
   * never reads counts too), and schedules the next pass.
   *
   * @param now `Date.now()`.
   * @param conns Connections by fd.
   * @param onIdle Closes one.
   */
  sweep<C extends Sweepable>(
    now: number,
    conns: (C | undefined)[],
    onIdle: (conn: C) => void,
  ): void {
    this.next = now + this.#every;
    for (const conn of conns) {
      if (conn && now - conn.lastActive >= this.#timeout) onIdle(conn);
    }
  }
}

/**
 * How long the loop may sleep in its wait: until the accept back-off ends or
 * the next idle sweep is due.
 *
 * @param acceptor The loop's acceptor.
 * @param idle The loop's idle sweep.
 * @param now The loop's clock, `Date.now()` (read again while accepts are paused).
 * @returns Milliseconds, or -1 to sleep until something is ready.
 */
export function waitTimeout(acceptor: Acceptor, idle: IdleSweep, now: number): number {
  if (acceptor.pausedUntil !== 0) now = Date.now();
  const until = acceptor.pausedUntil === 0 ? idle.next : Math.min(acceptor.pausedUntil, idle.next);
  return until === Infinity ? -1 : Math.max(0, Math.ceil(until - now));
}

/**
 * After a wait returned -1: an interrupted wait is tried again, anything else
 * is fatal.
 *
 * @param backend The poller's name, for the message.
 * @throws {Error} Unless the wait was interrupted (`EINTR`).
 */
export function checkWaitFailure(backend: string): void {
  const e = libc.errno();
  if (e !== libc.platform().EINTR) throw new Error(`${backend} wait failed: ${libc.strerror(e)}`);
}
