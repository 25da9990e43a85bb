/**
 * Every Worker entry module of the servers, relative to the repository root.
 * `deno compile` only embeds modules it can see statically, so the compile
 * task passes each of these to `--include`.
 *
 * @module
 */

/**
 * Worker modules the `blocking`, `nonblocking` and `uring` servers start, as paths from
 * the repository root.
 *
 * @example Usage
 * ```ts
 * import { WORKER_MODULES } from "./workers.ts";
 * const flags = WORKER_MODULES.flatMap((m) => ["--include", m]);
 * console.log(flags.length);
 * ```
 */
export const WORKER_MODULES: readonly string[] = [
  "servers/nonblocking_worker.ts",
  "servers/uring_worker.ts",
  "servers/protocol/loop_worker.ts",
  "servers/protocol/echo.ts",
  "servers/stream_loop.ts",
  "servers/blocking_acceptor_worker.ts",
  "servers/blocking_spawner_worker.ts",
  "servers/blocking_worker.ts",
];
