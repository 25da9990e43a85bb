import type { ServeOptions } from "./types.ts";

/**
 * Makes a reporter that passes each kind of warning to `onWarning` (or
 * stderr) only the first time: a server under an accept storm must not log
 * once per failed accept.
 *
 * @param options The server's options (for `onWarning`).
 * @returns `warn(kind, message)`; later calls with the same kind do nothing.
 */
export function warnOnce(options: ServeOptions): (kind: string, message: string) => void {
  const seen = new Set<string>();
  const sink = options.onWarning ?? ((message: string) => console.error(`warning: ${message}`));
  return (kind, message) => {
    if (seen.has(kind)) return;
    seen.add(kind);
    sink(message);
  };
}
