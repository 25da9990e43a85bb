/**
 * `Deno.connect` with a time limit and an abort signal: the one way the
 * async engine and the target probe wait for a connection.
 *
 * @module
 */

/** Options of {@linkcode connectWithin}. */
export interface ConnectWithinOptions {
  /** Most milliseconds to wait; 0: no limit. */
  timeoutMs: number;
  /** Stops waiting. */
  signal?: AbortSignal;
}

/**
 * Connects, or gives up after `timeoutMs` or on abort. A connection that
 * completes after giving up is closed, never returned.
 *
 * @param hostname Host.
 * @param port Port.
 * @param options The time limit and the abort signal.
 * @returns The connection, or why it gave up.
 * @throws {Error} What `Deno.connect` throws (refused, unreachable).
 */
export async function connectWithin(
  hostname: string,
  port: number,
  options: ConnectWithinOptions,
): Promise<Deno.TcpConn | "timeout" | "aborted"> {
  const attempt = Deno.connect({ hostname, port });
  if (options.timeoutMs <= 0 && !options.signal) return await attempt;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const gaveUp = new Promise<"timeout" | "aborted">((resolve) => {
    if (options.timeoutMs > 0) timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
    onAbort = () => resolve("aborted");
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([attempt, gaveUp]);
    if (typeof outcome === "string") attempt.then((c) => c.close(), () => {});
    return outcome;
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}
