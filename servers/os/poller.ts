/**
 * A readiness poller over `epoll` (Linux) or `poll` (everywhere), one small
 * interface for server and client loops, plus a {@linkcode Waker} that lets
 * another thread interrupt a blocked wait.
 *
 * Level-triggered, like Python's `selectors`: a socket is reported on every
 * wait while it stays readable (or writable), so a loop may handle part of it
 * and come back later. Interest and readiness use poll's bits, which equal
 * epoll's on every supported OS: {@linkcode READABLE}, {@linkcode WRITABLE},
 * and in results also {@linkcode ERROR} and {@linkcode HANGUP}.
 *
 * `wait` allocates nothing: results are read by index with `readyFd(i)` and
 * `readyEvents(i)` until the next `wait`.
 *
 * @example Usage
 * ```ts ignore
 * import { openPoller, READABLE } from "./poller.ts";
 * const poller = openPoller({ backend: "epoll" });
 * poller.add(fd, READABLE);
 * const n = poller.wait(-1);
 * for (let i = 0; i < n; i++) console.log(poller.readyFd(i), poller.readyEvents(i));
 * poller.close();
 * ```
 *
 * @module
 */
import * as libc from "./libc.ts";
import { OsError, setNonblocking } from "./socket.ts";

/** Interest/readiness bit: readable (data, a pending accept, or EOF). */
export const READABLE = 0x001;
/** Interest/readiness bit: writable (room in the send buffer; a connect finished). */
export const WRITABLE = 0x004;
/** Readiness bit: an error is pending (read it with `recv` or `SO_ERROR`). */
export const ERROR = 0x008;
/** Readiness bit: both directions are shut (peer gone). */
export const HANGUP = 0x010;

/** The readiness mechanisms a poller can use. */
export type PollerBackend = "epoll" | "poll";

/** Options for {@linkcode openPoller}. */
export interface PollerOptions {
  /** `epoll` (Linux) or `poll`. @default {"epoll" where it exists, else "poll"} */
  backend?: PollerBackend;
  /** Most events one `wait` returns (epoll). @default {1024} */
  maxEvents?: number;
}

/** A set of fds and the readiness each is watched for. */
export interface Poller {
  /** Which mechanism it runs on. */
  readonly backend: PollerBackend;
  /**
   * Starts watching `fd`.
   *
   * @param fd The fd.
   * @param interest `READABLE`, `WRITABLE`, both, or 0 (watch for errors only).
   * @returns 0, or -1 with errno set.
   */
  add(fd: number, interest: number): number;
  /**
   * Changes what `fd` is watched for.
   *
   * @param fd A watched fd.
   * @param interest The new interest.
   * @returns 0, or -1 with errno set (poll backend: -1 only for an unwatched fd, errno unset).
   */
  modify(fd: number, interest: number): number;
  /**
   * Stops watching `fd` (do it before closing the fd).
   *
   * @param fd A watched fd.
   * @returns 0, or -1 with errno set.
   */
  remove(fd: number): number;
  /**
   * Forgets `fd` without a syscall, for an fd about to be closed: the kernel
   * drops a closed fd from an epoll set by itself (when no duplicate of it is open).
   *
   * @param fd A watched fd.
   */
  forget(fd: number): void;
  /**
   * Blocks until some fd is ready, the timeout passes, or a signal interrupts.
   *
   * @param timeoutMs -1 waits forever; 0 only checks.
   * @returns How many results to read (0 on timeout), or -1 with errno set (`EINTR`).
   */
  wait(timeoutMs: number): number;
  /**
   * The fd of result `i` of the last `wait`.
   *
   * @param i From 0 to the count `wait` returned, exclusive.
   * @returns The fd.
   */
  readyFd(i: number): number;
  /**
   * The readiness bits of result `i` of the last `wait`.
   *
   * @param i From 0 to the count `wait` returned, exclusive.
   * @returns `READABLE | WRITABLE | ERROR | HANGUP` bits.
   */
  readyEvents(i: number): number;
  /** How many fds are watched. */
  readonly size: number;
  /** Releases the poller (closes the epoll fd). */
  close(): void;
}

/**
 * The best backend here: `epoll` on Linux, `poll` elsewhere.
 *
 * @returns The backend name.
 */
export function defaultBackend(): PollerBackend {
  return libc.platform().hasEpoll ? "epoll" : "poll";
}

/**
 * Opens a poller.
 *
 * @param options Backend and batch size.
 * @returns The poller.
 * @throws {OsError} When `epoll_create1` fails.
 * @throws {RangeError} When `epoll` is asked for where it does not exist.
 */
export function openPoller(options: PollerOptions = {}): Poller {
  const backend = options.backend ?? defaultBackend();
  const maxEvents = options.maxEvents ?? 1024;
  if (backend === "epoll") {
    if (!libc.platform().hasEpoll) {
      throw new RangeError(`Backend "epoll" is not available on ${Deno.build.os} (use poll)`);
    }
    return new EpollPoller(maxEvents);
  }
  return new PollPoller();
}

/**
 * epoll: the kernel keeps the interest set, so a wait costs O(ready), not
 * O(watched). Each interest change is one `epoll_ctl` call.
 */
class EpollPoller implements Poller {
  readonly backend = "epoll" as const;
  size = 0;
  #epfd: number;
  #maxEvents: number;
  #events: Uint8Array;
  #words: Int32Array;
  #stride: number;
  #dataWord: number;
  #one: Uint8Array;
  #oneWords: Int32Array;
  #p = libc.platform();

  constructor(maxEvents: number) {
    const p = this.#p;
    this.#epfd = libc.epollCreate1(p.EPOLL_CLOEXEC);
    if (this.#epfd < 0) throw new OsError("epoll_create1", libc.errno());
    this.#maxEvents = maxEvents;
    // A fresh ArrayBuffer is 8-aligned and both layouts put events and data at
    // multiples of 4 bytes, so 32-bit views read them directly.
    this.#events = new Uint8Array(maxEvents * p.EPOLL_EVENT_SIZE);
    this.#words = new Int32Array(this.#events.buffer);
    this.#stride = p.EPOLL_EVENT_SIZE / 4;
    this.#dataWord = p.EPOLL_DATA_OFFSET / 4;
    this.#one = new Uint8Array(p.EPOLL_EVENT_SIZE);
    this.#oneWords = new Int32Array(this.#one.buffer);
  }

  #ctl(op: number, fd: number, interest: number): number {
    this.#oneWords[0] = interest;
    // epoll hands `data` back untouched; the fd is all a loop needs to find its state.
    this.#oneWords[this.#dataWord] = fd;
    return libc.epollCtl(this.#epfd, op, fd, this.#one);
  }

  add(fd: number, interest: number): number {
    const r = this.#ctl(this.#p.EPOLL_CTL_ADD, fd, interest);
    if (r === 0) this.size++;
    return r;
  }

  modify(fd: number, interest: number): number {
    return this.#ctl(this.#p.EPOLL_CTL_MOD, fd, interest);
  }

  remove(fd: number): number {
    const r = this.#ctl(this.#p.EPOLL_CTL_DEL, fd, 0);
    if (r === 0) this.size--;
    return r;
  }

  forget(_fd: number): void {
    this.size--;
  }

  wait(timeoutMs: number): number {
    return libc.epollWait(this.#epfd, this.#events, this.#maxEvents, timeoutMs);
  }

  readyFd(i: number): number {
    return this.#words[i * this.#stride + this.#dataWord];
  }

  readyEvents(i: number): number {
    return this.#words[i * this.#stride];
  }

  close(): void {
    if (this.#epfd >= 0) libc.close(this.#epfd);
    this.#epfd = -1;
  }
}

/**
 * poll: we keep the interest set as an array of `struct pollfd` and hand the
 * whole array to the kernel on every wait, which then scans all of it — the
 * O(watched) cost epoll was invented to avoid. Changing interest is free (no
 * syscall): it is just a write into the array.
 */
class PollPoller implements Poller {
  readonly backend = "poll" as const;
  size = 0;
  #capacity = 64;
  #fds = new Uint8Array(this.#capacity * 8);
  #i32 = new Int32Array(this.#fds.buffer);
  #i16 = new Int16Array(this.#fds.buffer);
  /** fd → index in the pollfd array, -1 when not watched. */
  #index: number[] = [];
  #readyFds = new Int32Array(this.#capacity);
  #readyEvents = new Int32Array(this.#capacity);

  add(fd: number, interest: number): number {
    if ((this.#index[fd] ?? -1) >= 0) return this.modify(fd, interest);
    if (this.size === this.#capacity) this.#grow();
    const i = this.size++;
    // struct pollfd { int fd; short events; short revents; }
    this.#i32[i * 2] = fd;
    this.#i16[i * 4 + 2] = interest;
    this.#i16[i * 4 + 3] = 0;
    this.#index[fd] = i;
    return 0;
  }

  modify(fd: number, interest: number): number {
    const i = this.#index[fd] ?? -1;
    if (i < 0) return this.#fail();
    this.#i16[i * 4 + 2] = interest;
    return 0;
  }

  remove(fd: number): number {
    const i = this.#index[fd] ?? -1;
    if (i < 0) return this.#fail();
    // Move the last entry into the hole so the array stays dense.
    const last = --this.size;
    if (i !== last) {
      this.#i32[i * 2] = this.#i32[last * 2];
      this.#i32[i * 2 + 1] = this.#i32[last * 2 + 1];
      this.#index[this.#i32[i * 2]] = i;
    }
    this.#index[fd] = -1;
    return 0;
  }

  forget(fd: number): void {
    this.remove(fd);
  }

  wait(timeoutMs: number): number {
    const n = libc.poll(this.#fds, this.size, timeoutMs);
    if (n <= 0) return n;
    // poll says how many entries are ready, not which: scan for them.
    let k = 0;
    for (let i = 0; i < this.size && k < n; i++) {
      const revents = this.#i16[i * 4 + 3];
      if (revents !== 0) {
        this.#readyFds[k] = this.#i32[i * 2];
        this.#readyEvents[k] = revents & 0xffff;
        k++;
      }
    }
    return k;
  }

  readyFd(i: number): number {
    return this.#readyFds[i];
  }

  readyEvents(i: number): number {
    return this.#readyEvents[i];
  }

  close(): void {
    this.size = 0;
    this.#index = [];
  }

  #grow(): void {
    this.#capacity *= 2;
    const fds = new Uint8Array(this.#capacity * 8);
    fds.set(this.#fds);
    this.#fds = fds;
    this.#i32 = new Int32Array(fds.buffer);
    this.#i16 = new Int16Array(fds.buffer);
    this.#readyFds = new Int32Array(this.#capacity);
    this.#readyEvents = new Int32Array(this.#capacity);
  }

  #fail(): number {
    // Like epoll_ctl on an unwatched fd, but with no syscall there is no errno.
    return -1;
  }
}

/** The fds of a {@linkcode Waker}, plain numbers that can cross to another thread. */
export interface WakerFds {
  /** Watch this one for `READABLE` in the poller. */
  readFd: number;
  /** Write here to wake (the same fd as `readFd` for an eventfd). */
  writeFd: number;
}

/**
 * Wakes a thread blocked in `Poller.wait` from another thread: an `eventfd`
 * on Linux, a pipe elsewhere. Both ends are non-blocking.
 */
export interface Waker extends WakerFds {
  /** Makes `readFd` readable (from any thread). */
  wake(): void;
  /** Reads the wake-ups so `readFd` stops being readable (level-triggered). */
  drain(): void;
  /** Closes the fds. */
  close(): void;
}

/**
 * Opens a waker.
 *
 * @returns A waker; put `readFd` in the poller with `READABLE`.
 * @throws {OsError} When `eventfd`/`pipe` fails.
 *
 * @example Usage
 * ```ts ignore
 * import { openWaker } from "./poller.ts";
 * const waker = openWaker();
 * worker.postMessage({ wake: { readFd: waker.readFd, writeFd: waker.writeFd } });
 * waker.wake(); // the worker's wait returns with readFd readable
 * ```
 */
export function openWaker(): Waker {
  const p = libc.platform();
  if (p.os === "linux") {
    const fd = libc.eventfd(0, p.EFD_NONBLOCK | p.EFD_CLOEXEC);
    if (fd < 0) throw new OsError("eventfd", libc.errno());
    return attachWaker({ readFd: fd, writeFd: fd });
  }
  const fds = new Int32Array(2);
  if (libc.pipe(new Uint8Array(fds.buffer)) < 0) throw new OsError("pipe", libc.errno());
  if (setNonblocking(fds[0], true) < 0 || setNonblocking(fds[1], true) < 0) {
    throw new OsError("fcntl(O_NONBLOCK)", libc.errno());
  }
  return attachWaker({ readFd: fds[0], writeFd: fds[1] });
}

/**
 * A waker over fds opened by another thread with {@linkcode openWaker}.
 *
 * @param fds The fds, as sent by the opener.
 * @returns A waker on this thread.
 */
export function attachWaker(fds: WakerFds): Waker {
  // An eventfd reads and writes exactly 8 bytes (a u64 counter); a pipe takes any.
  const token = new Uint8Array(8);
  token[0] = 1;
  const sink = new Uint8Array(64);
  const { readFd, writeFd } = fds;
  const eventfd = readFd === writeFd;
  return {
    readFd,
    writeFd,
    wake() {
      libc.write(writeFd, token, eventfd ? 8 : 1);
    },
    drain() {
      if (eventfd) {
        libc.read(readFd, sink, 8);
        return;
      }
      while (libc.read(readFd, sink, sink.length) > 0) {
        // Keep reading until EAGAIN.
      }
    },
    close() {
      libc.close(readFd);
      if (!eventfd) libc.close(writeFd);
    },
  };
}
