/**
 * Closes connections idle for longer than a timeout, with one periodic sweep
 * instead of a timer per connection: the hot path only stores a coarse
 * timestamp, which costs no syscall and no allocation.
 *
 * @module
 */

/**
 * How often to look for idle connections: a quarter of the timeout (so one is
 * closed at most 25% late), but not more often than every 50 ms nor less
 * often than every second.
 *
 * @param timeoutMs The idle timeout, > 0.
 * @returns The sweep interval, ms.
 */
export function idleSweepInterval(timeoutMs: number): number {
  return Math.max(50, Math.min(1000, timeoutMs / 4));
}

/** Tracks last activity per connection and reports the idle ones. */
export class IdleSweeper<K> {
  #last = new Map<K, number>();
  #now = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Starts sweeping; does nothing when `timeoutMs` is 0 (no idle timeout).
   *
   * @param timeoutMs Idle time after which `onIdle` is called.
   * @param onIdle Called once for each connection found idle (it should close it).
   */
  constructor(readonly timeoutMs: number, onIdle: (key: K) => void) {
    if (timeoutMs <= 0) return;
    const timer = setInterval(() => {
      this.#now = performance.now();
      for (const [key, last] of this.#last) {
        if (this.#now - last >= timeoutMs) {
          this.#last.delete(key);
          onIdle(key);
        }
      }
    }, idleSweepInterval(timeoutMs));
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Marks a connection active now (call on every read). */
  touch(key: K): void {
    if (this.#timer !== undefined) this.#last.set(key, this.#now);
  }

  /** Stops tracking a connection. */
  delete(key: K): void {
    this.#last.delete(key);
  }

  /** Stops sweeping. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#last.clear();
  }
}
