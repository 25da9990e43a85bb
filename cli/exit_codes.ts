/**
 * The CLI's exit codes, one table for every command's `--help`, the README
 * and docs/reference.md.
 *
 * @module
 */
import { THRESHOLD_EXIT_CODE } from "../loadgen/thresholds.ts";

/** The exit codes of every `echokit` command. */
export const EXIT_CODES = {
  /** Success. */
  ok: 0,
  /** A failed run: a runtime error, or stop-test on a sample error. */
  failed: 1,
  /** A usage error: a wrong flag or value (the usage is printed). */
  usage: 2,
  /** Every output was written but a `--threshold` failed. */
  threshold: THRESHOLD_EXIT_CODE,
  /** Stopped by SIGINT (Ctrl-C) after writing what was measured. */
  sigint: 130,
  /** Stopped by SIGTERM after writing what was measured. */
  sigterm: 143,
} as const;

/**
 * The exit code for a run stopped by a signal: 128 + the signal number, as a shell reports it.
 *
 * @param signal The signal that stopped the run.
 * @returns 130 for SIGINT, 143 for SIGTERM.
 *
 * @example Usage
 * ```ts
 * import { signalExitCode } from "./exit_codes.ts";
 * console.log(signalExitCode("SIGTERM")); // 143
 * ```
 */
export function signalExitCode(signal: Deno.Signal): number {
  return signal === "SIGTERM" ? EXIT_CODES.sigterm : EXIT_CODES.sigint;
}

/** The exit-code section of a command's `--help`. */
export const EXIT_CODES_HELP: string = `Exit codes:
  0 ok · 1 failed run (runtime error, stop-test on error) · 2 usage error
  99 a --threshold failed (after all output) · 130 SIGINT · 143 SIGTERM`;
