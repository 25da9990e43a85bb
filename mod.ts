#!/usr/bin/env -S deno run -A
/**
 * echokit: which I/O concurrency model should my server use, and what does it
 * cost? Four TCP echo servers behind one interface, a JMeter-style load
 * generator, and a side-by-side compare.
 *
 * Run as a CLI (`deno run -A mod.ts --help`) or import the library:
 *
 * @example Usage
 * ```ts ignore
 * import { serve } from "./mod.ts";
 * const server = await serve({ mode: "protocol", port: 0 });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 *
 * @module
 */
import { main } from "./cli/main.ts";

export * from "./util/errors.ts";
export * from "./util/atomic_write.ts";
export * from "./servers/mod.ts";
export * from "./loadgen/mod.ts";
export * from "./compare/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
