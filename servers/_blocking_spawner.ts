/**
 * The spawner thread of a `blocking` server: it creates connection threads.
 *
 * @module
 */
import {
  type ConnectionThreadConfig,
  Control,
  EMPTY,
  NO_JOB,
  type SpawnerConfig,
  ThreadStat,
} from "./_blocking_shared.ts";
import * as libc from "./os/libc.ts";

/**
 * The spawner: creates connection threads on request. Creating a Worker
 * blocks the creating thread until the new isolate exists (tens of ms, and
 * seconds on a busy machine), so it is done here and not on the main thread,
 * which must stay free for signals.
 *
 * @param config Shared memory and what each thread needs.
 * @returns A function that starts connection thread `index` (call it for each request).
 */
export function createSpawner(config: SpawnerConfig): (index: number) => void {
  const control = new Int32Array(config.control);
  const jobs = new Int32Array(config.jobs);
  const states = new Int32Array(config.states);
  const counters = new Float64Array(config.counters);
  return (index: number) => {
    const row = index * ThreadStat.width;
    counters[row + ThreadStat.spawnedAt] = Date.now();
    counters[row + ThreadStat.startedAt] = 0;
    counters[row + ThreadStat.exitedAt] = 0;
    const worker = new Worker(new URL("./blocking_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      console.error(`blocking: connection thread ${index} failed: ${e.message}`);
      counters[row + ThreadStat.errors]++;
      if (counters[row + ThreadStat.startedAt] === 0) {
        // It never took its connection: close that, free the slot for a retry.
        counters[row + ThreadStat.startedAt] = -1;
        Atomics.sub(control, Control.starting, 1);
        const fd = Atomics.exchange(jobs, index, NO_JOB);
        if (fd >= 0) {
          libc.close(fd);
          counters[row + ThreadStat.connections]++;
        }
        Atomics.store(states, index, EMPTY);
        Atomics.sub(control, Control.busy, 1);
        Atomics.notify(control, Control.busy);
      }
      counters[row + ThreadStat.exitedAt] = Date.now();
    };
    const threadConfig: ConnectionThreadConfig = { ...config, index };
    worker.postMessage(threadConfig);
  };
}
