/**
 * A thread-pool member for `serve --offload threads`: receives the work once,
 * then for each message does the work synchronously and posts the message back.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import type { OffloadWorkerInit } from "./offload.ts";
import { doWorkSync, warmUpCpu } from "./work.ts";

let init: OffloadWorkerInit | undefined;

self.onmessage = (e: MessageEvent<OffloadWorkerInit | Uint8Array>) => {
  if (init === undefined) {
    init = e.data as OffloadWorkerInit;
    warmUpCpu(init.work, init.iterationsPerMs);
    self.postMessage("ready");
    return;
  }
  const data = e.data as Uint8Array;
  // An empty message is the pool's warm-up ping: no work for it.
  if (data.length > 0 && init.work) doWorkSync(init.work, init.iterationsPerMs);
  self.postMessage(data, [data.buffer as ArrayBuffer]);
};
