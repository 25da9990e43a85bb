/**
 * How the protocol loop knows when promise code has caught up: a count of
 * stream handlers that were handed a result (a read's bytes, a drained
 * write, the end) and have not yet waited on their streams again.
 *
 * The loop runs callbacks synchronously, then, while this count is above
 * zero, lets queued promise continuations run before it blocks in the
 * poller again (`loop.ts`). A handler that waits on something else (a timer)
 * stays counted, so the loop keeps yielding to the JS event loop for it.
 *
 * @module
 */

let runnable = 0;

/** A handler was handed a result: it will run before the loop waits. */
export function markRunnable(): void {
  runnable++;
}

/** That handler waits on its streams again (or has finished). */
export function markParked(): void {
  runnable--;
}

/**
 * Stream handlers with a result not yet taken up.
 *
 * @returns The count.
 */
export function runnableCount(): number {
  return runnable;
}
