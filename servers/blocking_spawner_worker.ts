/**
 * Worker entry of a `blocking` server's spawner thread: starts connection
 * threads when the main thread (prespawn) or the acceptor (via a port) asks.
 *
 * @module
 */
import type { SpawnerConfig } from "./_blocking_shared.ts";
import { createSpawner } from "./_blocking_spawner.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
};

let spawn: ((index: number) => void) | undefined;
scope.onmessage = (
  e: MessageEvent<{ config?: SpawnerConfig; port?: MessagePort; index?: number }>,
) => {
  if (e.data.config) {
    spawn = createSpawner(e.data.config);
    e.data.port!.onmessage = (m: MessageEvent<{ index: number }>) => spawn!(m.data.index);
    return;
  }
  spawn!(e.data.index!);
};
