/**
 * Four TCP echo servers behind one interface, one per I/O concurrency model.
 *
 * @example Usage
 * ```ts ignore
 * import { serve } from "./mod.ts";
 * const server = await serve({ mode: "stream", port: 0 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await conn.write(new TextEncoder().encode("hi"));
 * conn.close();
 * await server.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./serve.ts";
export * from "./stream.ts";
export * from "./protocol.ts";
export * from "./blocking.ts";
export * from "./nonblocking.ts";
export * from "./uring.ts";
export * from "./work.ts";
export * from "./offload.ts";
export * from "./multi_process.ts";
export * from "./proc_stats.ts";
export * from "./stats_interval.ts";
export * from "./stats_line.ts";
export * from "./protocol/mod.ts";
