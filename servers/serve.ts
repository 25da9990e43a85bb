import { UsageError } from "../util/errors.ts";
import { serveBlocking } from "./blocking.ts";
import { serveProcesses } from "./multi_process.ts";
import { serveNonblocking } from "./nonblocking.ts";
import { serveProtocol } from "./protocol.ts";
import { serveStream } from "./stream.ts";
import { serveUring } from "./uring.ts";
import {
  type EchoServer,
  type Mode,
  MODE_ENGINES,
  MODES,
  type ServeOptions,
  type ServerEngine,
} from "./types.ts";

/**
 * Starts an echo server of the given mode.
 *
 * @param options The mode and where to listen.
 * @returns The running server, bound (read the real port from `addr.port`).
 * @throws {UsageError} On an unknown mode or an out-of-range option.
 * @throws {EchokitError} When the address cannot be bound.
 *
 * @example Usage
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * const server = await serve({ mode: "stream", port: 0 });
 * console.log(`listening on ${server.addr.port}`);
 * await server.close();
 * ```
 */
export function serve(options: ServeOptions): Promise<EchoServer> {
  if (!MODES.includes(options.mode)) {
    return Promise.reject(
      new UsageError(`Unknown mode "${options.mode}" (use ${MODES.join(", ")})`),
    );
  }
  checkInt("port", options.port, 0, 65535);
  checkInt("backlog", options.backlog, 1, 1 << 20);
  checkInt("maxBuffer", options.maxBuffer, 1, 1 << 30);
  checkInt("maxConnections", options.maxConnections, 1, 1 << 24);
  checkInt("idleTimeout", options.idleTimeout, 0, 2 ** 31 - 1);
  checkInt("maxThreads", options.maxThreads, 1, 1 << 20);
  checkInt("prespawn", options.prespawn, 0, 1 << 20);
  checkInt("processes", options.processes, 1, MAX_PROCESSES);
  checkInt("offload size", options.offload?.size, 1, 1024);
  if (options.offload && (options.mode === "blocking" || options.mode === "nonblocking")) {
    return Promise.reject(
      new UsageError(
        options.mode === "blocking"
          ? `--offload is not available in mode "blocking": each connection already has its own thread (drop --offload)`
          : `--offload is not available in mode "nonblocking": its loop cannot await a pool (use stream or protocol)`,
      ),
    );
  }
  try {
    checkEngine(options.mode, options.engine);
    checkModeOptions(options.mode, (o) => options[o.field] !== undefined);
  } catch (err) {
    return Promise.reject(err);
  }
  if ((options.processes ?? 1) > 1) return serveProcesses(options);
  switch (options.mode) {
    case "stream":
      return serveStream(options);
    case "protocol":
      return serveProtocol(options);
    case "blocking":
      return serveBlocking(options);
    case "nonblocking":
      return serveNonblocking(options);
    case "uring":
      return serveUring(options);
  }
}

/** An option that one mode alone reads. */
export interface ModeOnlyOption {
  /** Its {@linkcode ServeOptions} field. */
  field: keyof ServeOptions;
  /** Its `serve` flag, without the dashes. */
  flag: string;
  /** The mode that reads it. */
  mode: Mode;
}

/** The options one mode alone reads: set with another mode, they are an error, not ignored. */
export const MODE_ONLY_OPTIONS: readonly ModeOnlyOption[] = [
  { field: "backend", flag: "backend", mode: "nonblocking" },
  { field: "batchWaitUs", flag: "batch-wait", mode: "uring" },
  { field: "maxThreads", flag: "max-threads", mode: "blocking" },
  { field: "prespawn", flag: "prespawn", mode: "blocking" },
];

/**
 * Refuses an option that another mode alone reads (see
 * {@linkcode MODE_ONLY_OPTIONS}), so a server never runs with an option it
 * silently ignored, and `--processes` children (which get every option) are
 * not refused where one process was not.
 *
 * @param mode The server's mode.
 * @param isSet Whether the caller set an option (a field, or a flag).
 * @throws {UsageError} Naming the flag and the mode that reads it.
 *
 * @example Usage
 * ```ts
 * import { checkModeOptions } from "./serve.ts";
 * checkModeOptions("uring", (o) => o.field === "batchWaitUs"); // fine: uring reads it
 * ```
 */
export function checkModeOptions(mode: Mode, isSet: (option: ModeOnlyOption) => boolean): void {
  for (const o of MODE_ONLY_OPTIONS) {
    if (mode !== o.mode && isSet(o)) {
      throw new UsageError(
        `Option --${o.flag} applies to --mode ${o.mode} only (got --mode ${mode})`,
      );
    }
  }
}

/**
 * Checks an engine against the mode: only `stream` and `protocol` have a
 * choice, each of its own engines.
 *
 * @param mode The mode.
 * @param engine The engine asked for, if any.
 * @returns The engine, typed.
 * @throws {UsageError} For an engine of another mode, or any engine in a mode without a choice.
 */
export function checkEngine(mode: Mode, engine: string | undefined): ServerEngine | undefined {
  if (engine === undefined) return undefined;
  const engines = MODE_ENGINES[mode];
  if (!engines) {
    throw new UsageError(
      `Option --engine applies to --mode stream or protocol only (got --mode ${mode})`,
    );
  }
  if (!(engines as readonly string[]).includes(engine)) {
    throw new UsageError(`Invalid --engine "${engine}" (use ${engines.join(", ")})`);
  }
  return engine as ServerEngine;
}

/** Most server processes `--processes` starts. */
const MAX_PROCESSES = 256;

function checkInt(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`Invalid ${name} "${value}" (use a whole number from ${min} to ${max})`);
  }
}
