/**
 * Worker entry of a `blocking` server's acceptor thread.
 *
 * @module
 */
import { type AcceptorConfig, runAcceptor } from "./blocking.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<AcceptorConfig>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  try {
    scope.postMessage({ kind: "ready" });
    runAcceptor(e.data, (index) => scope.postMessage({ kind: "spawn", index }));
    scope.postMessage({ kind: "exited" });
  } catch (err) {
    scope.postMessage({ kind: "error", message: err instanceof Error ? err.stack : String(err) });
  }
  scope.close();
};
