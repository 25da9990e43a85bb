/**
 * Small utilities every layer of echokit uses: its error classes (what the
 * CLI maps to exit codes), flag parsing, durations and sizes in user units, atomic file
 * writes and plain-text table layout. Nothing here imports another folder.
 *
 * @example Usage
 * ```ts
 * import { parseDuration, UsageError } from "./mod.ts";
 * console.log(parseDuration("--interval", "1.5s")); // 1500
 * console.log(new UsageError("bad flag") instanceof Error); // true
 * ```
 *
 * @module
 */
export * from "./atomic_write.ts";
export * from "./errors.ts";
export * from "./flags.ts";
export * from "./text_table.ts";
export * from "./units.ts";
