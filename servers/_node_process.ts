/**
 * Deno's `process` global, for the one Node API the servers use
 * (`process.cpuUsage()`). Not `import process from "node:process"`: modules
 * of the server side run in every blocking-mode thread, and a static import
 * of any `node:` module loads Deno's Node layer into each thread's isolate
 * (about 4 MiB of RSS apiece) whether or not it is used. The global loads it
 * on first touch. Private to `servers/`.
 *
 * @module
 */

/** The part of Node's `process` echokit calls. */
export interface NodeProcess {
  /** CPU time of this process since it started, µs. */
  cpuUsage(): { user: number; system: number };
}

/**
 * Deno's `process` global, if the runtime has one.
 *
 * @returns The global, or undefined.
 */
export function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}
