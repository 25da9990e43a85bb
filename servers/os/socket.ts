/**
 * Socket set-up helpers over {@link ./libc.ts}: listen, connect (blocking or
 * non-blocking), accept with the right flags per OS, socket options, the
 * open-files limit. Set-up failures throw an {@linkcode OsError}; the calls a
 * loop makes per event (`acceptConnection`, `setNoDelay`) return -1 like C.
 *
 * @module
 */
import { EchokitError } from "../../util/errors.ts";
import * as libc from "./libc.ts";
import type { Platform } from "./platform.ts";
import { decodeSockaddrIn, encodeSockaddrIn, type Ipv4Addr, parseIpv4 } from "./sockaddr.ts";

/**
 * A libc call failed. `code` is the errno's name (`EADDRINUSE`), as Node and
 * Deno name them, so callers can match it the same way.
 *
 * @example Usage
 * ```ts ignore
 * import { OsError } from "./socket.ts";
 * throw new OsError("bind", 98);
 * ```
 */
export class OsError extends EchokitError {
  /** The errno value. */
  readonly errno: number;
  /** The errno's name, e.g. `ECONNREFUSED`, or `E<number>` when unknown. */
  readonly code: string;
  /** The failing call, e.g. `bind`. */
  readonly call: string;
  /**
   * Makes the error from an errno.
   *
   * @param call The failing call.
   * @param errno Its errno.
   */
  constructor(call: string, errno: number) {
    const code = errnoName(errno);
    super(`${call} failed: ${libc.strerror(errno)} (${code})`);
    this.name = "OsError";
    this.errno = errno;
    this.code = code;
    this.call = call;
  }
}

/**
 * The symbolic name of an errno on this platform, e.g. 104 → `ECONNRESET` on Linux.
 *
 * @param errno The number.
 * @returns Its name, or `E<number>` when the table does not have it.
 */
export function errnoName(errno: number): string {
  const p = libc.platform() as unknown as Record<string, unknown>;
  // Errno names are the table's E-keys without an underscore (not EPOLL_CTL_ADD).
  for (const key in p) if (key[0] === "E" && !key.includes("_") && p[key] === errno) return key;
  return `E${errno}`;
}

/** Options for {@linkcode listenTcp}. */
export interface ListenTcpOptions {
  /** IPv4 address or `localhost`. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port; 0 lets the OS pick. @default {0} */
  port?: number;
  /** Listen backlog. @default {1024} */
  backlog?: number;
  /** Make the listening socket non-blocking (`accept` returns `EAGAIN`). @default {false} */
  nonblocking?: boolean;
  /** Set `SO_REUSEPORT` (several listeners on one port). @default {false} */
  reusePort?: boolean;
}

/** A listening socket. */
export interface TcpListenerFd {
  /** Its fd. */
  fd: number;
  /** The bound address, with the real port. */
  addr: Ipv4Addr;
}

let ONE: Uint8Array | undefined;
function one(): Uint8Array {
  return ONE ??= new Uint8Array(new Int32Array([1]).buffer);
}

/**
 * Creates, binds and listens a TCP socket, with `SO_REUSEADDR` (a restarted
 * server must not wait out TIME_WAIT).
 *
 * @param options Where and how.
 * @returns The fd and the bound address.
 * @throws {OsError} With `code` `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, ….
 * @throws {RangeError} When the host is not an IPv4 literal or `localhost`.
 *
 * @example Usage
 * ```ts ignore
 * import { listenTcp } from "./socket.ts";
 * const { fd, addr } = listenTcp({ port: 0 });
 * console.log(addr.port);
 * ```
 */
export function listenTcp(options: ListenTcpOptions = {}): TcpListenerFd {
  const p = libc.platform();
  const sa = encodeSockaddrIn(p, {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  const fd = libc.socket(p.AF_INET, p.SOCK_STREAM | p.SOCK_CLOEXEC, 0);
  if (fd < 0) throw new OsError("socket", libc.errno());
  try {
    setOption(fd, p.SOL_SOCKET, p.SO_REUSEADDR, "setsockopt(SO_REUSEADDR)");
    if (options.reusePort) {
      setOption(fd, p.SOL_SOCKET, p.SO_REUSEPORT, "setsockopt(SO_REUSEPORT)");
    }
    if (libc.bind(fd, sa) < 0) throw new OsError("bind", libc.errno());
    if (libc.listen(fd, options.backlog ?? 1024) < 0) throw new OsError("listen", libc.errno());
    if (options.nonblocking && setNonblocking(fd, true) < 0) {
      throw new OsError("fcntl(O_NONBLOCK)", libc.errno());
    }
    return { fd, addr: localAddress(fd) };
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/** Options for {@linkcode connectTcp}. */
export interface ConnectTcpOptions {
  /** Return at once with `inProgress` instead of waiting for the handshake. @default {false} */
  nonblocking?: boolean;
  /** Set `TCP_NODELAY` on the new socket. @default {true} */
  noDelay?: boolean;
}

/** A socket whose connect was started. */
export interface TcpConnectFd {
  /** Its fd. */
  fd: number;
  /**
   * True when a non-blocking connect is under way: wait for writable, then
   * check {@linkcode socketError} (0 means connected).
   */
  inProgress: boolean;
}

/**
 * Opens a TCP connection. Non-blocking: starts it and returns; the socket
 * becomes writable when the handshake ends (then read `SO_ERROR`).
 *
 * @param addr IPv4 host and port.
 * @param options Blocking or not; TCP_NODELAY.
 * @returns The fd and whether the connect is still in progress.
 * @throws {OsError} When the connect fails at once (`ECONNREFUSED` when blocking, `EMFILE`, …).
 *
 * @example Usage
 * ```ts ignore
 * import { connectTcp, socketError } from "./socket.ts";
 * const { fd, inProgress } = connectTcp({ hostname: "127.0.0.1", port: 7000 }, { nonblocking: true });
 * // …poll fd for POLLOUT, then:
 * if (inProgress && socketError(fd) !== 0) console.log("refused");
 * ```
 */
export function connectTcp(addr: Ipv4Addr, options: ConnectTcpOptions = {}): TcpConnectFd {
  const p = libc.platform();
  const sa = encodeSockaddrIn(p, addr);
  const type = p.SOCK_STREAM | p.SOCK_CLOEXEC | (options.nonblocking ? p.SOCK_NONBLOCK : 0);
  const fd = libc.socket(p.AF_INET, type, 0);
  if (fd < 0) throw new OsError("socket", libc.errno());
  try {
    if (options.nonblocking && p.SOCK_NONBLOCK === 0 && setNonblocking(fd, true) < 0) {
      throw new OsError("fcntl(O_NONBLOCK)", libc.errno());
    }
    noSigpipe(p, fd);
    if (options.noDelay ?? true) setNoDelay(fd);
    if (libc.connect(fd, sa) === 0) return { fd, inProgress: false };
    const e = libc.errno();
    if (options.nonblocking && e === p.EINPROGRESS) return { fd, inProgress: true };
    throw new OsError("connect", e);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/**
 * Accepts one connection, with the flags set the cheapest way the OS allows
 * (`accept4` on Linux: one call; `accept` + `fcntl` + `setsockopt` on macOS).
 *
 * @param listenFd The listening socket.
 * @param nonblocking Make the new socket non-blocking.
 * @returns The new fd, or -1 with {@linkcode libc.errno} set (`EAGAIN`: none pending).
 */
export function acceptConnection(listenFd: number, nonblocking: boolean): number {
  const p = libc.platform();
  if (p.os === "linux") {
    return libc.accept4(listenFd, p.SOCK_CLOEXEC | (nonblocking ? p.SOCK_NONBLOCK : 0));
  }
  const fd = libc.accept(listenFd);
  if (fd < 0) return fd;
  // BSD sockets inherit O_NONBLOCK from the listener; set it either way.
  setNonblocking(fd, nonblocking);
  noSigpipe(p, fd);
  return fd;
}

/**
 * Sets `TCP_NODELAY` (no Nagle delay for small echoes).
 *
 * @param fd A TCP socket.
 * @returns 0, or -1.
 */
export function setNoDelay(fd: number): number {
  const p = libc.platform();
  return libc.setsockopt(fd, p.IPPROTO_TCP, p.TCP_NODELAY, one());
}

/**
 * Turns `O_NONBLOCK` on or off.
 *
 * @param fd Any fd.
 * @param on Non-blocking or not.
 * @returns 0, or -1.
 */
export function setNonblocking(fd: number, on: boolean): number {
  const p = libc.platform();
  const flags = libc.fcntl(fd, p.F_GETFL, 0);
  if (flags < 0) return flags;
  const next = on ? flags | p.O_NONBLOCK : flags & ~p.O_NONBLOCK;
  return next === flags ? 0 : libc.fcntl(fd, p.F_SETFL, next);
}

/**
 * Sets `SO_LINGER`. `{ on: true, seconds: 0 }` makes `close` send RST at once
 * (a reset), which tests and load generators use to abort connections.
 *
 * @param fd A socket.
 * @param on Linger or not.
 * @param seconds How long `close` may wait for unsent data.
 * @returns 0, or -1.
 */
export function setLinger(fd: number, on: boolean, seconds: number): number {
  const p = libc.platform();
  const linger = new Uint8Array(new Int32Array([on ? 1 : 0, seconds]).buffer);
  return libc.setsockopt(fd, p.SOL_SOCKET, p.SO_LINGER, linger);
}

/**
 * Sets `SO_RCVTIMEO` and `SO_SNDTIMEO`: a blocking `recv` or `send` that makes
 * no progress for `ms` fails with `EAGAIN` instead of sleeping on. This is how
 * a thread blocked on one socket notices that its client went silent.
 *
 * @param fd A blocking socket.
 * @param ms The timeout; 0 turns it off (block for ever).
 * @returns 0, or -1.
 *
 * @example Usage
 * ```ts ignore
 * import { setIoTimeout } from "./socket.ts";
 * setIoTimeout(fd, 30_000); // recv returns -1 with EAGAIN after 30 s of silence
 * ```
 */
export function setIoTimeout(fd: number, ms: number): number {
  const p = libc.platform();
  // struct timeval, 16 bytes on every 64-bit target: tv_sec (a long), then
  // tv_usec (a long on Linux, an int plus padding on macOS; little-endian,
  // so the low 32 bits at offset 8 serve both).
  const timeval = new DataView(new ArrayBuffer(16));
  timeval.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
  timeval.setInt32(8, Math.floor(ms % 1000) * 1000, true);
  const bytes = new Uint8Array(timeval.buffer);
  const r = libc.setsockopt(fd, p.SOL_SOCKET, p.SO_RCVTIMEO, bytes);
  return r < 0 ? r : libc.setsockopt(fd, p.SOL_SOCKET, p.SO_SNDTIMEO, bytes);
}

/**
 * Sets `SO_REUSEADDR` or `SO_REUSEPORT` (or any int option) to 1.
 *
 * @param fd A socket.
 * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
 * @param name The option.
 * @returns 0, or -1.
 */
export function enableOption(fd: number, level: number, name: number): number {
  return libc.setsockopt(fd, level, name, one());
}

/**
 * The pending error of a socket (`getsockopt(SO_ERROR)`), which also clears
 * it: after a non-blocking connect, 0 means connected.
 *
 * @param fd A socket.
 * @returns The errno value, 0 for none.
 * @throws {OsError} When `getsockopt` itself fails.
 */
export function socketError(fd: number): number {
  const p = libc.platform();
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  const bytes = new Uint8Array(value.buffer);
  if (libc.getsockopt(fd, p.SOL_SOCKET, p.SO_ERROR, bytes, new Uint8Array(len.buffer)) < 0) {
    throw new OsError("getsockopt(SO_ERROR)", libc.errno());
  }
  return value[0];
}

/**
 * The local address of a socket (`getsockname`): the real port after binding port 0.
 *
 * @param fd A bound socket.
 * @returns Host and port.
 * @throws {OsError} When `getsockname` fails.
 */
export function localAddress(fd: number): Ipv4Addr {
  return socketAddress(fd, "getsockname");
}

/**
 * The address of a connected socket's peer (`getpeername`).
 *
 * @param fd A connected socket.
 * @returns Host and port.
 * @throws {OsError} When `getpeername` fails (`ENOTCONN` once the peer is gone).
 */
export function peerAddress(fd: number): Ipv4Addr {
  return socketAddress(fd, "getpeername");
}

function socketAddress(fd: number, call: "getsockname" | "getpeername"): Ipv4Addr {
  const p = libc.platform();
  const sa = new Uint8Array(p.SOCKADDR_IN_SIZE);
  const len = new Uint8Array(new Uint32Array([sa.length]).buffer);
  if (libc[call](fd, sa, len) < 0) throw new OsError(call, libc.errno());
  const addr = decodeSockaddrIn(p, sa);
  if (!addr) throw new OsError(call, p.EINVAL);
  return addr;
}

/** The open-files limit. */
export interface FileLimit {
  /** Soft limit: what `EMFILE` is measured against. */
  soft: number;
  /** Hard limit: the most the soft limit may be raised to. */
  hard: number;
}

/**
 * Raises the soft open-files limit (`RLIMIT_NOFILE`) toward `wanted`, capped
 * by the hard limit. Lowering is also allowed (tests provoke `EMFILE` that way)
 * unless `options.raiseOnly`.
 *
 * @param wanted The soft limit to ask for. @default {the hard limit}
 * @param options `raiseOnly`: keep a soft limit already above `wanted`.
 * @returns The limits in force afterwards.
 * @throws {OsError} When the limit cannot be read or set.
 */
export function setFileLimit(
  wanted?: number,
  options: { raiseOnly?: boolean } = {},
): FileLimit {
  const p = libc.platform();
  const rl = new BigUint64Array(2);
  const bytes = new Uint8Array(rl.buffer);
  if (libc.getrlimit(p.RLIMIT_NOFILE, bytes) < 0) throw new OsError("getrlimit", libc.errno());
  const hard = rl[1];
  let target = wanted === undefined ? hard : BigInt(wanted) < hard ? BigInt(wanted) : hard;
  if (options.raiseOnly && target < rl[0]) target = rl[0];
  if (target !== rl[0]) {
    rl[0] = target;
    if (libc.setrlimit(p.RLIMIT_NOFILE, bytes) < 0) throw new OsError("setrlimit", libc.errno());
  }
  const toNumber = (v: bigint) => v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  return { soft: toNumber(rl[0]), hard: toNumber(rl[1]) };
}

/**
 * Raises (never lowers) the soft open-files limit toward `wanted`, capped by
 * the hard limit; children inherit it. Every socket is an fd, and the usual
 * soft limit (1024) is far below what a benchmark opens. Where libc is out of
 * reach or the call fails, the limit in force stays and running out shows
 * later as EMFILE (servers back off) or connect errors.
 *
 * @param wanted The soft limit needed. @default {the hard limit}
 * @returns The limits afterwards, or undefined where unknown.
 */
export function raiseFileLimit(wanted?: number): FileLimit | undefined {
  if (libc.libcUnavailableReason() !== undefined) return undefined;
  try {
    return setFileLimit(wanted, { raiseOnly: true });
  } catch {
    return undefined;
  }
}

/**
 * Whether `hostname` is something the libc layer can bind or connect (IPv4 or `localhost`).
 *
 * @param hostname The host.
 * @returns True for an IPv4 literal or `localhost`.
 */
export function isIpv4Host(hostname: string): boolean {
  return parseIpv4(hostname) !== undefined;
}

/**
 * The `send` flags that turn SIGPIPE into `EPIPE` where a flag can (Linux
 * `MSG_NOSIGNAL`); macOS sockets get `SO_NOSIGPIPE` at accept/connect instead.
 *
 * @returns Flags for {@linkcode libc.send}.
 */
export function sendFlags(): number {
  return libc.platform().MSG_NOSIGNAL;
}

function setOption(fd: number, level: number, name: number, what: string): void {
  if (libc.setsockopt(fd, level, name, one()) < 0) throw new OsError(what, libc.errno());
}

function noSigpipe(p: Platform, fd: number): void {
  // Deno ignores SIGPIPE already; this keeps a macOS embedding safe too.
  if (p.SO_NOSIGPIPE !== 0) libc.setsockopt(fd, p.SOL_SOCKET, p.SO_NOSIGPIPE, one());
}
