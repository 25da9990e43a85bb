/**
 * Worker entry of the `nonblocking` server: receives the loop's config, says
 * it is ready, runs the loop (blocking this thread) and says when it stopped.
 *
 * @module
 */
import { type EchoLoopConfig, runEchoLoop } from "./nonblocking.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<EchoLoopConfig>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  try {
    scope.postMessage({ kind: "ready" });
    runEchoLoop(e.data, (message) => scope.postMessage({ kind: "warning", message }));
    scope.postMessage({ kind: "stopped" });
  } catch (err) {
    scope.postMessage({ kind: "error", message: err instanceof Error ? err.stack : String(err) });
  }
  scope.close();
};
