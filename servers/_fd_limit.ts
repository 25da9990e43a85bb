/**
 * The process's open-file limit and how many descriptors it holds, read from
 * `/proc` (Linux). Elsewhere both are unknown and callers skip the guard that
 * needs them.
 *
 * @module
 */

/**
 * The soft `RLIMIT_NOFILE` of this process.
 *
 * @returns The soft limit, or undefined when unknown (no `/proc`, or unlimited).
 */
export function openFileLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+)/m.exec(limits);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Descriptors this process has open now.
 *
 * @returns The count, or undefined when unknown.
 */
export function openFdCount(): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return undefined;
  }
}

/**
 * How many connections fit under the open-file limit, keeping a reserve for
 * the runtime's own descriptors (timers, pipes, files it opens later).
 *
 * @returns Connections that can be open at once, or undefined when unknown.
 */
export function connectionCapacity(): number | undefined {
  const soft = openFileLimit();
  const open = openFdCount();
  if (soft === undefined || open === undefined) return undefined;
  const reserve = Math.min(1024, Math.max(16, Math.floor(soft / 16)));
  return Math.max(1, soft - open - reserve);
}
