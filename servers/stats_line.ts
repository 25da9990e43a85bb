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

/**
 * One sentence on what the `blocking` mode's prespawned threads cost, from
 * its stats: the model's price per thread, paid before any load.
 *
 * @param stats A server's stats (or a parsed stats line).
 * @returns The sentence, or undefined when no thread was prespawned.
 *
 * @example Usage
 * ```ts
 * import { formatPrespawn } from "./stats_line.ts";
 * const line = formatPrespawn({ prespawned: 100, prespawnMs: 6200, prespawnBytes: 800 * 2 ** 20 });
 * console.log(line); // prespawned 100 threads in 6.2 s, 800 MiB (8.0 MiB, 62 ms per thread)
 * ```
 */
export function formatPrespawn(
  stats: Pick<ServerStats, "prespawned" | "prespawnMs" | "prespawnBytes">,
): string | undefined {
  const n = stats.prespawned ?? 0;
  if (n <= 0) return undefined;
  const ms = stats.prespawnMs ?? 0;
  const mib = (stats.prespawnBytes ?? 0) / 2 ** 20;
  return `prespawned ${n} threads in ${(ms / 1000).toFixed(1)} s, ${mib.toFixed(0)} MiB ` +
    `(${(mib / n).toFixed(1)} MiB, ${Math.round(ms / n)} ms per thread)`;
}
