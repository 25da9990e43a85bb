/**
 * Constants and struct layouts of the libc socket API, per OS and CPU, in one
 * place. Pure data: nothing here touches FFI, so every platform's table can be
 * checked on any machine.
 *
 * Numbers come from the system headers (glibc `<bits/socket.h>`,
 * `<asm-generic/errno.h>`, `<sys/epoll.h>`; macOS `<sys/socket.h>`,
 * `<sys/errno.h>`, `<sys/fcntl.h>`).
 *
 * @module
 */

/** The operating systems the OS layer knows. */
export type PlatformOs = "linux" | "darwin";
/** The CPUs the OS layer knows. */
export type PlatformArch = "x86_64" | "aarch64";

/** Every number and struct layout the OS layer needs, for one OS and CPU. */
export interface Platform {
  /** The operating system. */
  readonly os: PlatformOs;
  /** The CPU. */
  readonly arch: PlatformArch;
  /** The C library to `dlopen`. */
  readonly libcPath: string;
  /** Whether `epoll` exists (Linux); otherwise only `poll`. */
  readonly hasEpoll: boolean;

  // Sockets.
  /** `AF_INET`. */
  readonly AF_INET: number;
  /** `SOCK_STREAM`. */
  readonly SOCK_STREAM: number;
  /** `SOCK_NONBLOCK` flag for `socket`/`accept4` (0 where it does not exist). */
  readonly SOCK_NONBLOCK: number;
  /** `SOCK_CLOEXEC` flag for `socket`/`accept4` (0 where it does not exist). */
  readonly SOCK_CLOEXEC: number;
  /** `SOL_SOCKET`. */
  readonly SOL_SOCKET: number;
  /** `SO_REUSEADDR`. */
  readonly SO_REUSEADDR: number;
  /** `SO_REUSEPORT`. */
  readonly SO_REUSEPORT: number;
  /** `SO_LINGER`. */
  readonly SO_LINGER: number;
  /** `SO_ERROR`. */
  readonly SO_ERROR: number;
  /** `SO_NOSIGPIPE` (macOS; 0 where it does not exist). */
  readonly SO_NOSIGPIPE: number;
  /** `SO_RCVTIMEO`: a blocking receive fails with `EAGAIN` after this long (a `struct timeval`). */
  readonly SO_RCVTIMEO: number;
  /** `SO_SNDTIMEO`: a blocking send fails with `EAGAIN` after this long (a `struct timeval`). */
  readonly SO_SNDTIMEO: number;
  /** `IPPROTO_TCP`. */
  readonly IPPROTO_TCP: number;
  /** `TCP_NODELAY`. */
  readonly TCP_NODELAY: number;
  /** `MSG_NOSIGNAL` for `send` (0 where it does not exist; use `SO_NOSIGPIPE`). */
  readonly MSG_NOSIGNAL: number;
  /** `MSG_DONTWAIT`. */
  readonly MSG_DONTWAIT: number;
  /** `SHUT_RD`. */
  readonly SHUT_RD: number;
  /** `SHUT_WR`. */
  readonly SHUT_WR: number;
  /** `SHUT_RDWR`. */
  readonly SHUT_RDWR: number;

  // File descriptors.
  /** `F_GETFL`. */
  readonly F_GETFL: number;
  /** `F_SETFL`. */
  readonly F_SETFL: number;
  /** `O_NONBLOCK`. */
  readonly O_NONBLOCK: number;
  /** `EFD_NONBLOCK` for `eventfd` (Linux). */
  readonly EFD_NONBLOCK: number;
  /** `EFD_CLOEXEC` for `eventfd` (Linux). */
  readonly EFD_CLOEXEC: number;
  /** `RLIMIT_NOFILE`. */
  readonly RLIMIT_NOFILE: number;

  // Readiness. poll's and epoll's bits agree on both OSes for these four.
  /** `POLLIN` / `EPOLLIN`: readable (or a pending accept, or EOF). */
  readonly POLLIN: number;
  /** `POLLOUT` / `EPOLLOUT`: writable. */
  readonly POLLOUT: number;
  /** `POLLERR` / `EPOLLERR`: an error is pending. */
  readonly POLLERR: number;
  /** `POLLHUP` / `EPOLLHUP`: hung up. */
  readonly POLLHUP: number;
  /** `EPOLL_CTL_ADD`. */
  readonly EPOLL_CTL_ADD: number;
  /** `EPOLL_CTL_DEL`. */
  readonly EPOLL_CTL_DEL: number;
  /** `EPOLL_CTL_MOD`. */
  readonly EPOLL_CTL_MOD: number;
  /** `EPOLL_CLOEXEC`. */
  readonly EPOLL_CLOEXEC: number;

  // Struct layouts (bytes).
  /** `sizeof(struct sockaddr_in)`. */
  readonly SOCKADDR_IN_SIZE: number;
  /** Whether `sockaddr_in` starts with a length byte (BSD) before a 1-byte family. */
  readonly SOCKADDR_HAS_LEN: boolean;
  /** `sizeof(struct epoll_event)`: packed 12 on x86_64, 16 on aarch64. */
  readonly EPOLL_EVENT_SIZE: number;
  /** Offset of `data` in `struct epoll_event` (`events` is a u32 at 0). */
  readonly EPOLL_DATA_OFFSET: number;
  /** `sizeof(struct pollfd)`: `int fd; short events; short revents`. */
  readonly POLLFD_SIZE: number;
  /** `sizeof(struct rlimit)`: two 64-bit counts. */
  readonly RLIMIT_SIZE: number;
  /** `sizeof(struct linger)`: two ints. */
  readonly LINGER_SIZE: number;

  // errno values.
  /** `EAGAIN` (equal to `EWOULDBLOCK` on both OSes). */
  readonly EAGAIN: number;
  /** `EINTR`. */
  readonly EINTR: number;
  /** `EINPROGRESS`. */
  readonly EINPROGRESS: number;
  /** `EMFILE`: this process is out of file descriptors. */
  readonly EMFILE: number;
  /** `ENFILE`: the system is out of file descriptors. */
  readonly ENFILE: number;
  /** `ENOBUFS`. */
  readonly ENOBUFS: number;
  /** `ENOMEM`. */
  readonly ENOMEM: number;
  /** `ECONNABORTED`. */
  readonly ECONNABORTED: number;
  /** `ECONNRESET`. */
  readonly ECONNRESET: number;
  /** `ECONNREFUSED`. */
  readonly ECONNREFUSED: number;
  /** `EPIPE`. */
  readonly EPIPE: number;
  /** `EBADF`. */
  readonly EBADF: number;
  /** `EINVAL`. */
  readonly EINVAL: number;
  /** `EADDRINUSE`. */
  readonly EADDRINUSE: number;
  /** `EADDRNOTAVAIL`. */
  readonly EADDRNOTAVAIL: number;
  /** `EACCES`. */
  readonly EACCES: number;
  /** `ETIMEDOUT`. */
  readonly ETIMEDOUT: number;
  /** `ENOTCONN`. */
  readonly ENOTCONN: number;
}

const LINUX_COMMON = {
  os: "linux",
  libcPath: "libc.so.6",
  hasEpoll: true,
  AF_INET: 2,
  SOCK_STREAM: 1,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_REUSEPORT: 15,
  SO_LINGER: 13,
  SO_ERROR: 4,
  SO_NOSIGPIPE: 0,
  SO_RCVTIMEO: 20,
  SO_SNDTIMEO: 21,
  IPPROTO_TCP: 6,
  TCP_NODELAY: 1,
  MSG_NOSIGNAL: 0x4000,
  MSG_DONTWAIT: 0x40,
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  O_NONBLOCK: 0o4000,
  EFD_NONBLOCK: 0o4000,
  EFD_CLOEXEC: 0o2000000,
  RLIMIT_NOFILE: 7,
  POLLIN: 0x001,
  POLLOUT: 0x004,
  POLLERR: 0x008,
  POLLHUP: 0x010,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  EPOLL_CLOEXEC: 0o2000000,
  SOCKADDR_IN_SIZE: 16,
  SOCKADDR_HAS_LEN: false,
  POLLFD_SIZE: 8,
  RLIMIT_SIZE: 16,
  LINGER_SIZE: 8,
  EAGAIN: 11,
  EINTR: 4,
  EINPROGRESS: 115,
  EMFILE: 24,
  ENFILE: 23,
  ENOBUFS: 105,
  ENOMEM: 12,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ECONNREFUSED: 111,
  EPIPE: 32,
  EBADF: 9,
  EINVAL: 22,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  EACCES: 13,
  ETIMEDOUT: 110,
  ENOTCONN: 107,
} as const;

const DARWIN_COMMON = {
  os: "darwin",
  libcPath: "/usr/lib/libSystem.B.dylib",
  hasEpoll: false,
  AF_INET: 2,
  SOCK_STREAM: 1,
  SOCK_NONBLOCK: 0,
  SOCK_CLOEXEC: 0,
  SOL_SOCKET: 0xffff,
  SO_REUSEADDR: 0x0004,
  SO_REUSEPORT: 0x0200,
  SO_LINGER: 0x0080,
  SO_ERROR: 0x1007,
  SO_NOSIGPIPE: 0x1022,
  SO_RCVTIMEO: 0x1006,
  SO_SNDTIMEO: 0x1005,
  IPPROTO_TCP: 6,
  TCP_NODELAY: 1,
  MSG_NOSIGNAL: 0,
  MSG_DONTWAIT: 0x80,
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  O_NONBLOCK: 0x0004,
  EFD_NONBLOCK: 0,
  EFD_CLOEXEC: 0,
  RLIMIT_NOFILE: 8,
  POLLIN: 0x001,
  POLLOUT: 0x004,
  POLLERR: 0x008,
  POLLHUP: 0x010,
  EPOLL_CTL_ADD: 0,
  EPOLL_CTL_DEL: 0,
  EPOLL_CTL_MOD: 0,
  EPOLL_CLOEXEC: 0,
  SOCKADDR_IN_SIZE: 16,
  SOCKADDR_HAS_LEN: true,
  EPOLL_EVENT_SIZE: 0,
  EPOLL_DATA_OFFSET: 0,
  POLLFD_SIZE: 8,
  RLIMIT_SIZE: 16,
  LINGER_SIZE: 8,
  EAGAIN: 35,
  EINTR: 4,
  EINPROGRESS: 36,
  EMFILE: 24,
  ENFILE: 23,
  ENOBUFS: 55,
  ENOMEM: 12,
  ECONNABORTED: 53,
  ECONNRESET: 54,
  ECONNREFUSED: 61,
  EPIPE: 32,
  EBADF: 9,
  EINVAL: 22,
  EADDRINUSE: 48,
  EADDRNOTAVAIL: 49,
  EACCES: 13,
  ETIMEDOUT: 60,
  ENOTCONN: 57,
} as const;

/** Every platform the OS layer supports, keyed `os/arch`. */
export const PLATFORMS: Readonly<Record<`${PlatformOs}/${PlatformArch}`, Platform>> = {
  // x86_64 declares struct epoll_event __attribute__((packed)): data sits at 4.
  "linux/x86_64": { ...LINUX_COMMON, arch: "x86_64", EPOLL_EVENT_SIZE: 12, EPOLL_DATA_OFFSET: 4 },
  // Everywhere else the u64 is naturally aligned: 4 bytes of padding, data at 8.
  "linux/aarch64": { ...LINUX_COMMON, arch: "aarch64", EPOLL_EVENT_SIZE: 16, EPOLL_DATA_OFFSET: 8 },
  "darwin/x86_64": { ...DARWIN_COMMON, arch: "x86_64" },
  "darwin/aarch64": { ...DARWIN_COMMON, arch: "aarch64" },
};

/**
 * The table for an OS and CPU, or why there is none.
 *
 * @param os An OS name as in `Deno.build.os`.
 * @param arch A CPU name as in `Deno.build.arch`.
 * @returns The platform, or a sentence saying what is unsupported.
 *
 * @example Usage
 * ```ts
 * import { platformFor } from "./platform.ts";
 * const p = platformFor("linux", "x86_64");
 * if (typeof p !== "string") console.log(p.EPOLL_EVENT_SIZE); // 12
 * ```
 */
export function platformFor(os: string, arch: string): Platform | string {
  if (os !== "linux" && os !== "darwin") {
    return `unsupported OS "${os}" (the libc modes run on Linux and macOS)`;
  }
  if (arch !== "x86_64" && arch !== "aarch64") {
    return `unsupported CPU "${arch}" (the libc modes run on x86_64 and aarch64)`;
  }
  return PLATFORMS[`${os}/${arch}`];
}

/**
 * The table for the machine we run on, or why there is none.
 *
 * @returns The platform, or a sentence saying what is unsupported.
 *
 * @example Usage
 * ```ts
 * import { currentPlatform } from "./platform.ts";
 * const p = currentPlatform();
 * console.log(typeof p === "string" ? p : p.os);
 * ```
 */
export function currentPlatform(): Platform | string {
  return platformFor(Deno.build.os, Deno.build.arch);
}
