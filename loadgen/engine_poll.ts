import type { EngineConfig } from "./_engine_types.ts";
import type { EngineHooks } from "./engine_async.ts";

/** Placeholder until the FFI layer lands. */
export function runPollEngine(_config: EngineConfig, _hooks: EngineHooks): Promise<void> {
  return Promise.reject(new Error("The poll engine is not built yet"));
}
