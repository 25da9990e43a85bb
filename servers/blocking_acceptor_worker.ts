/**
 * Worker entry of a `blocking` server's acceptor thread.
 *
 * @module
 */
import type { AcceptorConfig } from "./_blocking_shared.ts";
import { runAcceptor } from "./_blocking_acceptor.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<{ config: AcceptorConfig; port: MessagePort }>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  const { config, port } = e.data;
  try {
    scope.postMessage({ kind: "ready" });
    // The port's messages are queued to the spawner at once, even though
    // this thread never returns to its event loop while accepting.
    runAcceptor(
      config,
      (index) => port.postMessage({ index }),
      (message) => scope.postMessage({ kind: "warning", message }),
    );
    scope.postMessage({ kind: "exited" });
  } catch (err) {
    scope.postMessage({ kind: "error", message: err instanceof Error ? err.stack : String(err) });
  }
  scope.close();
};
