/**
 * Worker entry of the protocol loop: imports the user's protocol module,
 * checks its factory export, says it is ready and runs the loop (blocking
 * this thread). User protocols therefore run on the loop's thread.
 *
 * @module
 */
import { runLoopWorker } from "../_loop_thread.ts";
import { type ProtocolLoopConfig, runProtocolLoop } from "./loop.ts";
import type { ProtocolFactory } from "./types.ts";

runLoopWorker<ProtocolLoopConfig>(async (config, warn) => {
  const mod = await import(config.protocolModule) as Record<string, unknown>;
  const factory = mod[config.protocolExport];
  if (typeof factory !== "function") {
    throw new Error(
      `Module "${config.protocolModule}" has no function export "${config.protocolExport}" (export a factory: () => Protocol)`,
    );
  }
  return () => runProtocolLoop(config, factory as ProtocolFactory, warn);
});
