/**
 * Error types shared by every echokit module.
 *
 * A {@linkcode UsageError} is the user's to fix (a bad flag, a bad plan file):
 * the CLI prints it as `error: …` and exits 2. An {@linkcode EchokitError} is a
 * runtime condition the user can understand (a port in use, an unreachable
 * host): the CLI prints it and exits 1. Anything else is a programmer error and
 * crashes loudly with its stack.
 *
 * @module
 */

/**
 * A mistake in what the user asked for: a flag, a value, a plan file.
 *
 * @example Usage
 * ```ts
 * import { UsageError } from "./errors.ts";
 * throw new UsageError(`Unknown mode "fast" (use stream, protocol, blocking or nonblocking)`);
 * ```
 */
export class UsageError extends Error {
  /** The exit code the CLI uses for this error. */
  readonly exitCode = 2;
  /**
   * Makes a usage error.
   *
   * @param message Sentence case, no trailing period, the offending value quoted.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * A runtime failure the user can act on: a port in use, a host that refuses,
 * FFI not available.
 *
 * @example Usage
 * ```ts
 * import { EchokitError } from "./errors.ts";
 * throw new EchokitError("Cannot listen on 127.0.0.1:7000: address already in use (try --port 0)");
 * ```
 */
export class EchokitError extends Error {
  /** The exit code the CLI uses for this error. */
  readonly exitCode = 1;
  /**
   * Makes a runtime error.
   *
   * @param message Sentence case, no trailing period; says what to do.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EchokitError";
  }
}
