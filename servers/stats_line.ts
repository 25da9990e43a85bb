/**
 * The final `stats …` line a server prints on stdout when it stops
 * (`stats mode=stream accepted=3 active=0 closed=3 bytesIn=… syscalls=…`):
 * written by `echokit serve`, read back by `--processes` (to sum its
 * children), `compare` and `deno task bench` (syscalls per message).
 *
 * @module
 */
import type { Mode, ServerStats } from "./types.ts";

/**
 * Formats a stats snapshot as one `key=value` line.
 *
 * @param mode The server's mode.
 * @param stats Its counters.
 * @returns The line, without a newline.
 *
 * @example Usage
 * ```ts
 * import { formatStatsLine } from "./stats_line.ts";
 * import { emptyStats } from "./types.ts";
 * console.log(formatStatsLine("stream", emptyStats()).startsWith("stats mode=stream accepted=0")); // true
 * ```
 */
export function formatStatsLine(mode: Mode, stats: ServerStats): string {
  const parts = [`stats mode=${mode}`];
  for (const [k, v] of Object.entries(stats)) if (v !== undefined) parts.push(`${k}=${v}`);
  return parts.join(" ");
}

/**
 * Reads the last `stats …` line a server printed (`stats mode=stream accepted=3 …`).
 *
 * @param stdout The server's standard output.
 * @returns The counters, or undefined when there is no stats line.
 *
 * @example Usage
 * ```ts
 * import { parseStatsLine } from "./stats_line.ts";
 * console.log(parseStatsLine("stats mode=stream accepted=3 active=0\n")?.accepted); // 3
 * ```
 */
export function parseStatsLine(stdout: string): ServerStats | undefined {
  const line = stdout.split("\n").findLast((l) => l.startsWith("stats "));
  if (!line) return undefined;
  const stats: Record<string, number> = {};
  for (const part of line.split(" ").slice(1)) {
    const eq = part.indexOf("=");
    const value = Number(part.slice(eq + 1));
    if (eq > 0 && Number.isFinite(value)) stats[part.slice(0, eq)] = value;
  }
  return stats as unknown as ServerStats;
}
