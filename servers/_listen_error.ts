import { EchokitError } from "../util/errors.ts";

/**
 * Turns a failed bind into an error that says what and where, with the fix.
 *
 * @param err What the runtime threw.
 * @param hostname The host we tried to bind.
 * @param port The port we tried to bind.
 * @returns An error for the user.
 */
export function listenError(err: unknown, hostname: string, port: number): Error {
  const where = `${hostname}:${port}`;
  const code = (err as { code?: string })?.code;
  if (err instanceof Deno.errors.AddrInUse || code === "EADDRINUSE") {
    return new EchokitError(`Cannot listen on ${where}: address already in use (try --port 0)`, {
      cause: err,
    });
  }
  if (
    err instanceof Deno.errors.PermissionDenied || code === "EACCES" || code === "EPERM"
  ) {
    return new EchokitError(
      `Cannot listen on ${where}: permission denied (ports below 1024 need privileges; try --port 0)`,
      { cause: err },
    );
  }
  if (
    err instanceof Deno.errors.AddrNotAvailable || code === "EADDRNOTAVAIL" ||
    code === "ENOTFOUND" || code === "EAI_NONAME"
  ) {
    return new EchokitError(
      `Cannot listen on ${where}: address not available on this machine (try --host 127.0.0.1)`,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new EchokitError(`Cannot listen on ${where}: ${message}`, { cause: err });
}
