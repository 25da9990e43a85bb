/**
 * Live progress on stderr: one line redrawn in place (`\r` + erase to end of
 * line), cut to the terminal's width so it never wraps and leaves no ghosts.
 *
 * @module
 */

/** Width assumed when stderr is not a terminal or its size is unknown. */
export const DEFAULT_WIDTH = 80;

/**
 * The width progress lines must fit: the terminal's columns when stderr is a
 * TTY, else {@linkcode DEFAULT_WIDTH}.
 *
 * @returns Columns.
 */
export function progressWidth(): number {
  if (!Deno.stderr.isTerminal()) return DEFAULT_WIDTH;
  try {
    const { columns } = Deno.consoleSize();
    return columns > 0 ? columns : DEFAULT_WIDTH;
  } catch {
    return DEFAULT_WIDTH;
  }
}

/**
 * Cuts a line to fit `width` columns, keeping the last column free (a
 * character there makes some terminals wrap); a cut line ends in `…`.
 *
 * @param line The text (one line, no control characters).
 * @param width The terminal's columns.
 * @returns The line, at most `width - 1` characters.
 *
 * @example Usage
 * ```ts
 * import { fitLine } from "./progress.ts";
 * console.log(fitLine("abcdef", 5)); // abc…
 * ```
 */
export function fitLine(line: string, width: number): string {
  const max = Math.max(1, width - 1);
  const chars = [...line];
  return chars.length <= max ? line : chars.slice(0, max - 1).join("") + "…";
}

/**
 * The bytes that redraw the progress line in place: carriage return, the
 * line fitted to `width`, erase to the end of the line.
 *
 * @param line The progress text.
 * @param width The terminal's columns.
 * @returns What to write to stderr.
 */
export function redrawLine(line: string, width: number): string {
  return `\r${fitLine(line, width)}\x1b[K`;
}

/** What clears the progress line before other output. */
export const CLEAR_LINE = "\r\x1b[K";
