/**
 * Worker entry of a `blocking` server's connection thread.
 *
 * @module
 */
import type { ConnectionThreadConfig } from "./_blocking_shared.ts";
import { runConnectionThread } from "./_blocking_thread.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ConnectionThreadConfig>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  scope.postMessage({ kind: "started" });
  runConnectionThread(e.data);
  scope.postMessage({ kind: "exited" });
  scope.close();
};
