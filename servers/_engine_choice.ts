/**
 * Which engine serves `stream` and `protocol`: echokit's own loop where it
 * can, else the mode's runtime engine (`Deno.Conn` for stream, `node:net`
 * for protocol), with a note saying why.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { libcUnavailableReason } from "./os/libc.ts";
import { isIpv4Host } from "./os/socket.ts";
import { createProtocolServer } from "./protocol/server.ts";
import type { EchoServer, ServeOptions } from "./types.ts";

/** What {@linkcode serveOnLoopOr} needs to know about the mode. */
export interface EngineChoice {
  /** The mode. */
  mode: "stream" | "protocol";
  /** The mode's other engine's name. */
  other: "deno" | "node";
  /** The protocol module the own loop serves. */
  protocol: URL;
  /** Starts the other engine. */
  serveOther(options: ServeOptions): Promise<EchoServer>;
}

/**
 * Serves on the own loop, unless `--engine` names the other engine or the
 * own loop cannot serve these options: no FFI, `--work`/`--offload` (the
 * loop cannot await a timer or a pool), or an IPv6 host (it binds IPv4).
 * Moved there without being asked, the server carries a note.
 *
 * @param options The serve options.
 * @param choice The mode, its other engine and how to start each.
 * @returns The running server.
 * @throws {UsageError} For `--engine loop` with options it cannot serve.
 */
export async function serveOnLoopOr(
  options: ServeOptions,
  choice: EngineChoice,
): Promise<EchoServer> {
  const { mode, other } = choice;
  const noFfi = libcUnavailableReason();
  const awaitsWork = options.work !== undefined || options.offload !== undefined;
  const ipv6 = !isIpv4Host(options.hostname ?? "127.0.0.1");
  if (options.engine === "loop" && awaitsWork) {
    throw new UsageError(
      `--work and --offload need --engine ${other} in mode ${mode}: the own loop cannot await a timer or a pool (drop --engine loop)`,
    );
  }
  if (options.engine === "loop" && noFfi) {
    throw new UsageError(`--engine loop needs FFI: ${noFfi} (use --engine ${other})`);
  }
  if (options.engine === other || noFfi || awaitsWork || (ipv6 && options.engine !== "loop")) {
    const server = await choice.serveOther(options);
    if (options.engine === other) return server;
    const why = noFfi
      ? `FFI is unavailable (${noFfi})`
      : awaitsWork
      ? "--work/--offload await timers and pools"
      : "the own loop binds IPv4 only";
    return {
      ...server,
      notes: [`${mode}: engine ${other}, since ${why}`, ...(server.notes ?? [])],
    };
  }
  return createProtocolServer({ ...options, mode, protocol: choice.protocol });
}
