/**
 * An asyncio-style Protocol/Transport API on echokit's own event loop: write
 * a {@linkcode Protocol} factory in a module, and serve it with
 * {@linkcode createProtocolServer}; or write async/await code over
 * `StreamReader`/`StreamWriter` with `streamProtocol`. See docs/protocol.md.
 *
 * @example Usage
 * ```ts ignore
 * import { createProtocolServer } from "./mod.ts";
 * const server = await createProtocolServer({
 *   protocol: new URL("./examples/upper_lines.ts", import.meta.url),
 * });
 * await server.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./server.ts";
export * from "./loop.ts";
export * from "./streams.ts";
