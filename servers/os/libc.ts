/**
 * The C library's socket calls, through Deno FFI: opened lazily on first use
 * (never at import time), one thin counted wrapper per call.
 *
 * The wrappers keep C's contract on purpose, so code reads like the C it
 * teaches: a call returns `-1` on failure and {@linkcode errno} says why (read
 * it right after the failing call, on the same thread). Each wrapper counts one
 * call in {@linkcode syscallCount}, per thread (per Worker), which is how the
 * servers report syscalls per message without `perf`.
 *
 * Every signature is synchronous and takes only ints and buffers, which keeps
 * Deno on its fast-call path. `ssize_t` results are declared `i32`: that avoids
 * a BigInt per call and is exact for transfers below 2 GiB on 64-bit CPUs.
 *
 * Why this file is long (over 500 lines) and stays one file: it is the
 * whole C surface echokit crosses, one symbol table and one wrapper per
 * symbol, each a few lines of code under its JSDoc. A reader checks a
 * signature against its man page here, in one place, and the table and its
 * wrappers cannot drift apart; split by topic, every piece would need the
 * same lazy `dlopen` and counter. Set-up helpers that throw live in
 * {@link ./socket.ts}, the readiness loop's calls in {@link ./poller.ts}.
 *
 * Use it through a namespace import:
 *
 * @example Usage
 * ```ts ignore
 * import * as libc from "./libc.ts";
 * const p = libc.platform();
 * const fd = libc.socket(p.AF_INET, p.SOCK_STREAM, 0);
 * if (fd < 0) throw new Error(`socket: ${libc.strerror(libc.errno())}`);
 * libc.close(fd);
 * ```
 *
 * @module
 */
import { EchokitError } from "../../util/errors.ts";
import { currentPlatform, type Platform } from "./platform.ts";

/**
 * libc cannot be used here: FFI is not permitted, the OS or CPU is not
 * supported, or the library did not load. `reason` says which, in words.
 *
 * @example Usage
 * ```ts
 * import { LibcUnavailable } from "./libc.ts";
 * const err = new LibcUnavailable("Mode blocking", "FFI is not permitted (run with --allow-ffi, or -A)");
 * console.log(err.message);
 * ```
 */
export class LibcUnavailable extends EchokitError {
  /** Why libc is unavailable, e.g. `FFI is not permitted (run with --allow-ffi, or -A)`. */
  readonly reason: string;
  /**
   * Makes the error.
   *
   * @param what Who needed libc, e.g. `Mode "blocking"`.
   * @param reason Why it is unavailable.
   */
  constructor(what: string, reason: string) {
    super(`${what} needs libc through FFI, which is unavailable: ${reason}`);
    this.name = "LibcUnavailable";
    this.reason = reason;
  }
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept: { parameters: ["i32", "pointer", "pointer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // fcntl is variadic. On x86_64 and Linux/aarch64 a variadic int travels in a
  // register like a fixed one, so a fixed three-int signature works.
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // Apple's arm64 ABI passes every variadic argument on the stack. Filling the
  // eight argument registers first puts the ninth argument where fcntl's
  // va_arg looks for it.
  fcntl_stack: {
    name: "fcntl",
    parameters: ["i32", "i32", "i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i32",
  },
  // nfds_t is unsigned long on Linux, unsigned int on macOS; a register holds either.
  poll: { parameters: ["buffer", "u32", "i32"], result: "i32" },
  pipe: { parameters: ["buffer"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  // Linux only.
  accept4: { parameters: ["i32", "pointer", "pointer", "i32"], result: "i32", optional: true },
  epoll_create1: { parameters: ["i32"], result: "i32", optional: true },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32", optional: true },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", optional: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32", optional: true },
  // io_uring (servers/os/io_uring.ts) through `syscall`: io_uring_setup(entries,
  // params) and io_uring_enter(fd, to_submit, min_complete, flags, arg, argsz).
  // `argsz` is a size_t: declared 32-bit, the register's upper half is whatever
  // the JIT left there and the kernel answers EINVAL once the call is optimised.
  io_uring_setup: {
    name: "syscall",
    parameters: ["i32", "u32", "buffer"],
    result: "i32",
    optional: true,
  },
  io_uring_enter: {
    name: "syscall",
    parameters: ["i32", "i32", "u32", "u32", "u32", "buffer", "usize"],
    result: "i32",
    optional: true,
  },
  // io_uring_register(fd, opcode, arg, nr_args).
  io_uring_register: {
    name: "syscall",
    parameters: ["i32", "i32", "u32", "buffer", "u32"],
    result: "i32",
    optional: true,
  },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer", optional: true },
  // macOS's name for the same thing.
  __error: { parameters: [], result: "pointer", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

/** The raw libc symbols (uncounted). Prefer the wrappers in this module. */
export type LibcSymbols = Deno.StaticForeignLibraryInterface<typeof SYMBOLS>;

let sym: LibcSymbols | undefined;
let plat: Platform | undefined;
let errnoView: Deno.UnsafePointerView | undefined;
let calls = 0;

/**
 * Why libc cannot be used here, or `undefined` when it can. Never throws and
 * never prompts; loads the library on first call.
 *
 * @returns A sentence such as `FFI is not permitted (run with --allow-ffi, or -A)`.
 *
 * @example Usage
 * ```ts
 * import { libcUnavailableReason } from "./libc.ts";
 * const why = libcUnavailableReason();
 * console.log(why ?? "libc is available");
 * ```
 */
export function libcUnavailableReason(): string | undefined {
  if (sym) return undefined;
  const p = currentPlatform();
  if (typeof p === "string") return p;
  if (typeof Deno.dlopen !== "function") return "this Deno runtime has no FFI";
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync({ name: "ffi", path: p.libcPath }).state;
  } catch {
    state = "denied";
  }
  if (state !== "granted") return "FFI is not permitted (run with --allow-ffi, or -A)";
  try {
    sym = Deno.dlopen(p.libcPath, SYMBOLS).symbols;
  } catch (err) {
    return `cannot load "${p.libcPath}": ${err instanceof Error ? err.message : err}`;
  }
  const errnoLocation = sym.__errno_location ?? sym.__error;
  if (!errnoLocation) {
    sym = undefined;
    return `"${p.libcPath}" has no errno accessor`;
  }
  plat = p;
  return undefined;
}

/**
 * Opens libc if needed, or throws why it cannot be.
 *
 * @param what Who needs libc, for the message (e.g. `Mode "blocking"`).
 * @returns The platform's constants and layouts.
 * @throws {LibcUnavailable} With the exact reason.
 *
 * @example Usage
 * ```ts ignore
 * import { requireLibc } from "./libc.ts";
 * const p = requireLibc('Mode "nonblocking"');
 * console.log(p.os);
 * ```
 */
export function requireLibc(what = "echokit"): Platform {
  const why = libcUnavailableReason();
  if (why !== undefined) throw new LibcUnavailable(what, why);
  return plat!;
}

/**
 * The platform's constants and layouts; opens libc if needed.
 *
 * @returns The current platform.
 * @throws {LibcUnavailable} When libc cannot be used.
 */
export function platform(): Platform {
  return plat ?? requireLibc();
}

/**
 * The raw symbols, for calls this module does not wrap. Not counted.
 *
 * @returns The opened library's symbols.
 * @throws {LibcUnavailable} When libc cannot be used.
 */
export function symbols(): LibcSymbols {
  if (!sym) requireLibc();
  return sym!;
}

// The size_t lengths of recv/send/read/write and poll's nfds are declared
// "u32", not "usize". A number passed for a "usize" parameter made V8 drop the
// optimised code of every caller again and again ("not a BigInt": ~400
// recompiles in 3 s, 12% of the nonblocking server's CPU, measured with
// --trace-deopt and perf), and a BigInt per call would allocate. A 32-bit
// argument is zero-extended into the 64-bit register on x86_64 and aarch64 by
// both V8's fast calls and libffi, and no buffer here reaches 4 GiB.
function usize(n: number): number {
  return n >>> 0;
}

function s(): LibcSymbols {
  if (!sym) requireLibc();
  return sym!;
}

/**
 * This thread's `errno`. Read it right after the failing call: any later libc
 * call may overwrite it. Not counted (it is a memory read, not a syscall).
 *
 * @returns The error number of the last failed call on this thread.
 */
export function errno(): number {
  // One isolate runs on one OS thread for its whole life, so the thread-local
  // address stays valid for this isolate.
  errnoView ??= new Deno.UnsafePointerView((s().__errno_location ?? s().__error)!()!);
  return errnoView.getInt32(0);
}

/**
 * The C library's text for an error number.
 *
 * @param code An errno value.
 * @returns E.g. `Connection reset by peer`.
 */
export function strerror(code: number): string {
  const ptr = s().strerror(code);
  return ptr ? Deno.UnsafePointerView.getCString(ptr) : `errno ${code}`;
}

/**
 * Libc calls made through this module on this thread (this Worker) so far.
 *
 * @returns The count.
 */
export function syscallCount(): number {
  return calls;
}

/**
 * Counts calls made through {@linkcode symbols} directly, so totals stay true.
 *
 * @param n How many calls to add.
 */
export function countSyscalls(n: number): void {
  calls += n;
}

/**
 * `socket(domain, type, protocol)`.
 *
 * @param domain `AF_INET`.
 * @param type `SOCK_STREAM`, optionally `| SOCK_NONBLOCK | SOCK_CLOEXEC` (Linux).
 * @param protocol 0.
 * @returns The new fd, or -1.
 */
export function socket(domain: number, type: number, protocol: number): number {
  calls++;
  return s().socket(domain, type, protocol);
}

/**
 * `setsockopt(fd, level, name, value, value.length)`.
 *
 * @param fd The socket.
 * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
 * @param name The option.
 * @param value The option's bytes (an int is 4 bytes).
 * @returns 0, or -1.
 */
export function setsockopt(fd: number, level: number, name: number, value: Uint8Array): number {
  calls++;
  return s().setsockopt(fd, level, name, value, value.length);
}

/**
 * `getsockopt(fd, level, name, value, &len)`.
 *
 * @param fd The socket.
 * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
 * @param name The option.
 * @param value Receives the option's bytes.
 * @param len A 4-byte `socklen_t`, in: `value.length`; out: bytes written.
 * @returns 0, or -1.
 */
export function getsockopt(
  fd: number,
  level: number,
  name: number,
  value: Uint8Array,
  len: Uint8Array,
): number {
  calls++;
  return s().getsockopt(fd, level, name, value, len);
}

/**
 * `bind(fd, addr, addr.length)`.
 *
 * @param fd The socket.
 * @param addr An encoded `sockaddr_in`.
 * @returns 0, or -1.
 */
export function bind(fd: number, addr: Uint8Array): number {
  calls++;
  return s().bind(fd, addr, addr.length);
}

/**
 * `connect(fd, addr, addr.length)`. On a non-blocking socket, -1 with
 * `EINPROGRESS` means "wait for writable, then read `SO_ERROR`".
 *
 * @param fd The socket.
 * @param addr An encoded `sockaddr_in`.
 * @returns 0, or -1.
 */
export function connect(fd: number, addr: Uint8Array): number {
  calls++;
  return s().connect(fd, addr, addr.length);
}

/**
 * `listen(fd, backlog)`.
 *
 * @param fd The bound socket.
 * @param backlog Connections the kernel queues before `accept`.
 * @returns 0, or -1.
 */
export function listen(fd: number, backlog: number): number {
  calls++;
  return s().listen(fd, backlog);
}

/**
 * `accept(fd, NULL, NULL)`.
 *
 * @param fd The listening socket.
 * @returns The connection's fd, or -1.
 */
export function accept(fd: number): number {
  calls++;
  return s().accept(fd, null, null);
}

/**
 * `accept4(fd, NULL, NULL, flags)` (Linux): accept and set `SOCK_NONBLOCK`
 * / `SOCK_CLOEXEC` in the same call.
 *
 * @param fd The listening socket.
 * @param flags `SOCK_NONBLOCK | SOCK_CLOEXEC` or a subset.
 * @returns The connection's fd, or -1.
 * @throws {Error} Where `accept4` does not exist (macOS): check `platform().os`.
 */
export function accept4(fd: number, flags: number): number {
  calls++;
  return s().accept4!(fd, null, null, flags);
}

/**
 * `getsockname(fd, addr, &len)`.
 *
 * @param fd The socket.
 * @param addr Receives a `sockaddr_in` (16 bytes).
 * @param len A 4-byte `socklen_t`, in: `addr.length`.
 * @returns 0, or -1.
 */
export function getsockname(fd: number, addr: Uint8Array, len: Uint8Array): number {
  calls++;
  return s().getsockname(fd, addr, len);
}

/**
 * `getpeername(fd, addr, len)`: the address of the connected peer.
 *
 * @param fd A connected socket.
 * @param addr Receives a `sockaddr_in` (16 bytes).
 * @param len A 4-byte `socklen_t`, in: `addr.length`.
 * @returns 0, or -1.
 */
export function getpeername(fd: number, addr: Uint8Array, len: Uint8Array): number {
  calls++;
  return s().getpeername(fd, addr, len);
}

/**
 * `recv(fd, buf, len, flags)`.
 *
 * @param fd The socket.
 * @param buf Where bytes land (from its start).
 * @param len Most bytes to read (at most `buf.length`).
 * @param flags 0, or e.g. `MSG_DONTWAIT`.
 * @returns Bytes read; 0 at EOF; -1 on error (`EAGAIN`: nothing to read now).
 */
export function recv(fd: number, buf: Uint8Array, len: number, flags: number): number {
  calls++;
  return s().recv(fd, buf, usize(len), flags);
}

/**
 * `send(fd, buf, len, flags)`.
 *
 * @param fd The socket.
 * @param buf The bytes (from its start).
 * @param len How many to send (at most `buf.length`).
 * @param flags `MSG_NOSIGNAL` on Linux (a closed peer gives `EPIPE`, not SIGPIPE).
 * @returns Bytes sent (maybe fewer than `len`), or -1 (`EAGAIN`: buffer full).
 */
export function send(fd: number, buf: Uint8Array, len: number, flags: number): number {
  calls++;
  return s().send(fd, buf, usize(len), flags);
}

/**
 * `read(fd, buf, len)`.
 *
 * @param fd Any fd (an eventfd, a pipe).
 * @param buf Where bytes land.
 * @param len Most bytes to read.
 * @returns Bytes read, 0 at EOF, or -1.
 */
export function read(fd: number, buf: Uint8Array, len: number): number {
  calls++;
  return s().read(fd, buf, usize(len));
}

/**
 * `write(fd, buf, len)`.
 *
 * @param fd Any fd (an eventfd, a pipe).
 * @param buf The bytes.
 * @param len How many.
 * @returns Bytes written, or -1.
 */
export function write(fd: number, buf: Uint8Array, len: number): number {
  calls++;
  return s().write(fd, buf, usize(len));
}

/**
 * `shutdown(fd, how)`. Also wakes a thread blocked in `recv`/`send`/`accept`
 * on that socket (Linux), which is how the blocking server stops its threads.
 *
 * @param fd The socket.
 * @param how `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
 * @returns 0, or -1.
 */
export function shutdown(fd: number, how: number): number {
  calls++;
  return s().shutdown(fd, how);
}

/**
 * `close(fd)`.
 *
 * @param fd Any fd.
 * @returns 0, or -1.
 */
export function close(fd: number): number {
  calls++;
  return s().close(fd);
}

/**
 * `fcntl(fd, cmd, arg)` for the int-argument commands (`F_GETFL`, `F_SETFL`).
 *
 * @param fd Any fd.
 * @param cmd The command.
 * @param arg Its int argument (0 for `F_GETFL`).
 * @returns The command's result, or -1.
 */
export function fcntl(fd: number, cmd: number, arg: number): number {
  calls++;
  const p = platform();
  if (p.os === "darwin" && p.arch === "aarch64") {
    return s().fcntl_stack(fd, cmd, 0n, 0n, 0n, 0n, 0n, 0n, BigInt(arg));
  }
  return s().fcntl(fd, cmd, arg);
}

/**
 * `poll(fds, nfds, timeout)`.
 *
 * @param fds `nfds` packed `struct pollfd` (8 bytes each).
 * @param nfds How many entries.
 * @param timeoutMs -1 waits forever.
 * @returns How many entries have `revents` set, 0 on timeout, or -1.
 */
export function poll(fds: Uint8Array, nfds: number, timeoutMs: number): number {
  calls++;
  return s().poll(fds, usize(nfds), timeoutMs);
}

/**
 * `pipe(fds)`: fills two ints, read end then write end.
 *
 * @param fds 8 bytes.
 * @returns 0, or -1.
 */
export function pipe(fds: Uint8Array): number {
  calls++;
  return s().pipe(fds);
}

/**
 * `getrlimit(resource, rlim)`.
 *
 * @param resource E.g. `RLIMIT_NOFILE`.
 * @param rlim 16 bytes: soft then hard limit, u64 each.
 * @returns 0, or -1.
 */
export function getrlimit(resource: number, rlim: Uint8Array): number {
  calls++;
  return s().getrlimit(resource, rlim);
}

/**
 * `setrlimit(resource, rlim)`.
 *
 * @param resource E.g. `RLIMIT_NOFILE`.
 * @param rlim 16 bytes: soft then hard limit, u64 each.
 * @returns 0, or -1.
 */
export function setrlimit(resource: number, rlim: Uint8Array): number {
  calls++;
  return s().setrlimit(resource, rlim);
}

/**
 * `epoll_create1(flags)` (Linux).
 *
 * @param flags `EPOLL_CLOEXEC` or 0.
 * @returns The epoll fd, or -1.
 */
export function epollCreate1(flags: number): number {
  calls++;
  return s().epoll_create1!(flags);
}

/**
 * `epoll_ctl(epfd, op, fd, event)` (Linux).
 *
 * @param epfd The epoll fd.
 * @param op `EPOLL_CTL_ADD`, `_MOD` or `_DEL`.
 * @param fd The watched fd.
 * @param event One `struct epoll_event` (see `EPOLL_EVENT_SIZE`).
 * @returns 0, or -1.
 */
export function epollCtl(epfd: number, op: number, fd: number, event: Uint8Array): number {
  calls++;
  return s().epoll_ctl!(epfd, op, fd, event);
}

/**
 * `epoll_wait(epfd, events, maxEvents, timeout)` (Linux).
 *
 * @param epfd The epoll fd.
 * @param events Room for `maxEvents` `struct epoll_event`.
 * @param maxEvents Most events to return.
 * @param timeoutMs -1 waits forever.
 * @returns Ready events, 0 on timeout, or -1.
 */
export function epollWait(
  epfd: number,
  events: Uint8Array,
  maxEvents: number,
  timeoutMs: number,
): number {
  calls++;
  return s().epoll_wait!(epfd, events, maxEvents, timeoutMs);
}

/**
 * `eventfd(initval, flags)` (Linux): a counter fd, readable while non-zero.
 *
 * @param initval Start value.
 * @param flags `EFD_NONBLOCK | EFD_CLOEXEC` or a subset.
 * @returns The fd, or -1.
 */
export function eventfd(initval: number, flags: number): number {
  calls++;
  return s().eventfd!(initval, flags);
}
