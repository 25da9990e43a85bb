/**
 * Worker entry point: receives an {@linkcode EngineConfig}, runs the chosen
 * engine over its share of the threads, posts counters every tick and its
 * histogram and fairness counts at the end. Started by `runLoad`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type {
  DoneMessage,
  EngineConfig,
  FailMessage,
  ReadyMessage,
  StopTestMessage,
} from "./_engine_types.ts";
import { SampleStats } from "./_sample_stats.ts";
import { loadLatencyHistogram } from "./histogram.ts";
import { runAsyncEngine } from "./engine_async.ts";
import { runPollEngine } from "./engine_poll.ts";
import { runUringEngine } from "./engine_uring.ts";

self.onmessage = async (e: MessageEvent<EngineConfig>) => {
  const config = e.data;
  const stats = new SampleStats(config);
  const tick = () => {
    const msg = stats.tick();
    if (msg.jtl) self.postMessage(msg, [msg.jtl.buffer as ArrayBuffer]);
    else self.postMessage(msg);
  };
  let stopSent = false;
  const hooks = {
    stats,
    tick,
    stopTest() {
      stats.requestStop();
      if (!stopSent) {
        stopSent = true;
        self.postMessage({ type: "stopTest", worker: config.worker } satisfies StopTestMessage);
      }
    },
  };
  try {
    const run = config.engine === "poll"
      ? runPollEngine
      : config.engine === "uring"
      ? runUringEngine
      : runAsyncEngine;
    await run(config, hooks);
    tick();
    const fair = stats.fairness();
    self.postMessage(
      {
        type: "done",
        worker: config.worker,
        histogram: stats.histogram.encode(),
        fairness: fair.counts,
        fairnessWindow: fair.window,
      } satisfies DoneMessage,
    );
  } catch (err) {
    self.postMessage(
      {
        type: "fail",
        worker: config.worker,
        message: err instanceof Error ? err.message : String(err),
      } satisfies FailMessage,
    );
  }
};

// Ready only once the histogram's WebAssembly is loaded: loading it on the
// config's arrival delayed the first samples past a `--start-at` by up to a second.
await loadLatencyHistogram();
self.postMessage({ type: "ready" } satisfies ReadyMessage);
