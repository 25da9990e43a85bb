/**
 * echokit's OS layer: the C library's socket API through Deno FFI, typed, in
 * one place. The `blocking` and `nonblocking` servers and the load generator's
 * poll loop are written on it.
 *
 * - {@link ./platform.ts} — constants and struct layouts per OS/CPU
 *   (`PLATFORMS`, `platformFor`, `currentPlatform`). Pure data.
 * - {@link ./sockaddr.ts} — `encodeSockaddrIn`, `decodeSockaddrIn`, `parseIpv4`. Pure.
 * - {@link ./libc.ts} — import it as a namespace (`import * as libc`): lazily
 *   opened symbols (never at import time), `requireLibc(what)` /
 *   `libcUnavailableReason()` / `LibcUnavailable`, `errno()`, `strerror()`,
 *   `syscallCount()` (per thread), and one counted C-contract wrapper per call
 *   (`socket`, `bind`, `listen`, `accept`, `accept4`, `connect`, `recv`, `send`,
 *   `read`, `write`, `shutdown`, `close`, `fcntl`, `setsockopt`, `getsockopt`,
 *   `getsockname`, `getpeername`, `poll`, `epollCreate1`, `epollCtl`, `epollWait`, `eventfd`,
 *   `pipe`, `getrlimit`, `setrlimit`): -1 on failure, then read `errno()`.
 * - {@link ./socket.ts} — set-up helpers that throw `OsError` (`code` =
 *   errno name): `listenTcp`, `connectTcp` (non-blocking: `inProgress`, then
 *   `socketError` once writable), `acceptConnection`, `setNoDelay`,
 *   `setNonblocking`, `setLinger`, `setIoTimeout`, `enableOption`, `localAddress`,
 *   `peerAddress`,
 *   `setFileLimit`, `sendFlags`, `errnoName`.
 * - {@link ./poller.ts} — `openPoller({ backend: "epoll" | "poll" })`, a
 *   level-triggered `Poller` (`add`/`modify`/`remove`/`forget`/`wait`/`readyFd`/
 *   `readyEvents`) with `READABLE`/`WRITABLE`/`ERROR`/`HANGUP` bits, and
 *   `openWaker()`/`attachWaker()` to interrupt a wait from another thread.
 *
 * Import the files directly (this module re-exports all but `libc.ts`, whose
 * C names would collide with globals such as `close`).
 *
 * @example Usage
 * ```ts ignore
 * import * as libc from "./libc.ts";
 * import { listenTcp, openPoller, READABLE } from "./mod.ts";
 * libc.requireLibc("My server");
 * const listener = listenTcp({ port: 0, nonblocking: true });
 * const poller = openPoller();
 * poller.add(listener.fd, READABLE);
 * console.log(listener.addr.port, libc.syscallCount());
 * ```
 *
 * @module
 */
export * from "./platform.ts";
export * from "./sockaddr.ts";
export * from "./socket.ts";
export * from "./poller.ts";
export { LibcUnavailable, libcUnavailableReason, requireLibc } from "./libc.ts";
