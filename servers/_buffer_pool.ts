/**
 * Read buffers of one size, handed from closed connections to new ones.
 *
 * A connection that lives for seconds gets its read buffer promoted to V8's
 * old generation; when it closes, the buffer (a malloc'd backing store) is
 * garbage until the next full collection, which under a steady load of
 * short-lived connections can be minutes away. Reusing the buffers keeps that
 * garbage from piling up with every connection (the soak's `stream` RSS).
 *
 * @module
 */

/** A bounded free list of equal-sized buffers. */
export class BufferPool {
  #free: Uint8Array[] = [];

  /**
   * @param size Byte length of every buffer handed out.
   * @param maxFree Most buffers kept for reuse; more are left to the GC.
   */
  constructor(readonly size: number, readonly maxFree: number) {}

  /**
   * A buffer of {@linkcode BufferPool.size} bytes: a returned one if any, else a new one.
   * A reused buffer still holds old bytes: read into it before looking at it.
   *
   * @returns The buffer, now owned by the caller.
   */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.size);
  }

  /**
   * Returns a buffer once nothing (no pending read or write) uses it any more.
   * A buffer of another size, a view into a larger one, or a detached one is
   * ignored, as is any beyond {@linkcode BufferPool.maxFree}.
   *
   * @param buf A buffer from {@linkcode BufferPool.take}.
   */
  give(buf: Uint8Array): void {
    if (
      buf.byteLength !== this.size || buf.byteOffset !== 0 ||
      buf.buffer.byteLength !== this.size || this.#free.length >= this.maxFree
    ) return;
    this.#free.push(buf);
  }

  /** Buffers waiting for reuse. */
  get freeCount(): number {
    return this.#free.length;
  }
}
