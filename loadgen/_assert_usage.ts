/**
 * Test assertions for user errors: the call fails with a {@linkcode UsageError}
 * whose message is exactly the text, or matches the pattern. Private to
 * `loadgen/` tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";

function check(message: string | RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

/**
 * Asserts that `fn` throws a UsageError with this message.
 *
 * @param fn The call.
 * @param message The exact message, or a pattern it matches.
 */
export function assertUsageError(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, check(message));
}

/**
 * Asserts that `p` rejects with a UsageError with this message.
 *
 * @param p The promise.
 * @param message The exact message, or a pattern it matches.
 * @returns When checked.
 */
export async function assertUsageRejects(
  p: Promise<unknown>,
  message: string | RegExp,
): Promise<void> {
  await assert.rejects(p, check(message));
}
