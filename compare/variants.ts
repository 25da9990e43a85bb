/**
 * `compare --offload …` and `--processes …` as dimensions: each mode becomes
 * one column per offload pool and process count (`stream`, `stream+threads`,
 * `stream+processes:2`, `protocol-2p`), so one table shows async, threads and
 * processes side by side. `--work …` is a row dimension instead (see
 * `buildScenarios`): every column is measured under each kind of work.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { parseOffload } from "../servers/offload.ts";
import { ioUringUnavailableReason } from "../servers/os/io_uring.ts";
import { type Mode, MODE_ENGINES, MODES, type ServerEngine } from "../servers/types.ts";
import { parseWork } from "../servers/work.ts";
import type { ServerColumn } from "./types.ts";

/** The offload dimension's "no pool" value. */
export const NO_OFFLOAD = "none";

/** Modes `--offload` applies to; the others get only the `none` column. */
const OFFLOAD_MODES: readonly Mode[] = ["stream", "protocol"];

/**
 * The modes `compare` runs when none are named: every mode but `uring`, which
 * `--mode …,uring` adds (the default run stays about four minutes).
 */
export const DEFAULT_COMPARE_MODES: readonly Mode[] = MODES.filter((m) => m !== "uring");

/** Column variants of each mode. */
export interface ModeVariants {
  /** Offload pools, as `--offload` takes them, or `none`. @default {["none"]} */
  offloads?: readonly string[];
  /** Server process counts. @default {[1]} */
  processes?: readonly number[];
  /**
   * Engines of the `stream` and `protocol` modes: `loop` keeps the plain
   * column, `deno` adds `stream-deno` and `node` adds `protocol-node`
   * (`serve --engine …`). A mode with none of the listed engines keeps its
   * plain column. @default {["loop"]}
   */
  engines?: readonly ServerEngine[];
}

/**
 * The server columns for modes × offload pools × process counts.
 *
 * @param modes Our modes, in column order.
 * @param variants The offload and process dimensions.
 * @returns Columns (with the `serve` flags each needs) and one note per
 *   combination left out (offload in a mode without it, `uring` where io_uring
 *   is refused).
 * @throws {UsageError} On a bad offload or process count.
 *
 * @example Usage
 * ```ts
 * import { modeColumns } from "./variants.ts";
 * const { columns } = modeColumns(["stream"], { offloads: ["none", "threads:4"] });
 * console.log(columns.map((c) => c.name)); // ["stream", "stream+threads:4"]
 * ```
 */
export function modeColumns(
  modes: readonly Mode[],
  variants: ModeVariants = {},
): { columns: ServerColumn[]; left: string[] } {
  const offloads = variants.offloads ?? [NO_OFFLOAD];
  for (const o of offloads) if (o !== NO_OFFLOAD) parseOffload(o);
  const counts = variants.processes ?? [1];
  for (const n of counts) {
    if (!Number.isInteger(n) || n < 1 || n > 256) {
      throw new UsageError(`Invalid --processes level "${n}" (use a whole number from 1 to 256)`);
    }
  }
  const engines = variants.engines ?? ["loop"];
  const columns: ServerColumn[] = [];
  const left: string[] = [];
  for (const mode of modes) {
    const refused = mode === "uring" ? ioUringUnavailableReason() : undefined;
    if (refused !== undefined) {
      left.push(`${mode}: io_uring is unavailable: ${refused}`);
      continue;
    }
    const own = (MODE_ENGINES[mode] ?? ["loop"]).filter((e) => engines.includes(e));
    for (const engine of own.length > 0 ? own : ["loop"]) {
      for (const offload of offloads) {
        if (offload !== NO_OFFLOAD && !OFFLOAD_MODES.includes(mode)) {
          left.push(`${mode}+${offload}: --offload is not available in mode ${mode}`);
          continue;
        }
        for (const n of counts) {
          const args: string[] = [];
          if (engine !== "loop") args.push("--engine", engine);
          if (offload !== NO_OFFLOAD) args.push("--offload", offload);
          if (n > 1) args.push("--processes", String(n));
          const name = `${mode}${engine === "loop" ? "" : `-${engine}`}${
            offload === NO_OFFLOAD ? "" : `+${offload}`
          }${n > 1 ? `-${n}p` : ""}`;
          // A plain mode stays a plain column, as reports have always shown it.
          columns.push(
            args.length === 0 ? { name, kind: "mode" } : { name, kind: "mode", mode, args },
          );
        }
      }
    }
  }
  return { columns, left: [...new Set(left)] };
}

/**
 * Checks `--work` levels for compare (each becomes a row dimension).
 *
 * @param works `--work` values.
 * @returns The same values, checked.
 * @throws {UsageError} On a bad value.
 *
 * @example Usage
 * ```ts
 * import { checkWorks } from "./variants.ts";
 * console.log(checkWorks(["sleep:10ms", "cpu:1ms"]).length); // 2
 * ```
 */
export function checkWorks(works: readonly string[]): string[] {
  for (const w of works) parseWork(w);
  return [...works];
}
