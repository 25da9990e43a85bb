/**
 * A typed io_uring layer over FFI, with no liburing: `io_uring_setup` and
 * `io_uring_enter` through libc's `syscall`, and the rings mapped with `mmap`.
 *
 * How a ring works, in three shared memory areas the kernel and this process
 * both see:
 *
 * - The **submission queue** (SQ): an array of 64-byte entries (SQEs), each
 *   one request ("recv 64 bytes from fd 7 into this address"), plus a ring of
 *   indices with a `head` the kernel advances and a `tail` we advance. To
 *   submit, write an SQE, bump `tail`, then call `io_uring_enter(to_submit)`.
 * - The **completion queue** (CQ): a ring of 16-byte entries (CQEs), each the
 *   result of one request: our `user_data` back, and `res` (bytes moved, or
 *   `-errno`). The kernel advances its `tail`; we read entries up to it and
 *   advance `head` to hand the slots back.
 * - One `io_uring_enter` can both submit everything queued and wait for at
 *   least one completion (`IORING_ENTER_GETEVENTS`), with a timeout
 *   (`IORING_ENTER_EXT_ARG`): that is the whole loop turn in one syscall,
 *   where readiness I/O pays an `epoll_wait` plus a `recv` and a `send` per
 *   message.
 * - It can also wait for a *batch*: `min_complete` completions, but for no
 *   longer than a short "min wait" before settling for what has arrived
 *   (Linux 6.12). The kernel then does not wake the process per completion,
 *   and each turn handles many at once.
 *
 * Buffers named in an SQE must stay where they are until the completion
 * arrives: pass addresses of off-heap `ArrayBuffer`s kept alive by the caller
 * ({@linkcode bufferAddress}).
 *
 * @example Usage
 * ```ts ignore
 * import { ioUringUnavailableReason, openRing, OP } from "./io_uring.ts";
 * if (ioUringUnavailableReason() === undefined) {
 *   const ring = openRing({ entries: 8 });
 *   ring.queue(OP.NOP, -1, 0, 0, 0, 0, 42);
 *   ring.submitAndWait(100);
 *   console.log(ring.completions(), ring.completionData(0)); // 1 42
 *   ring.close();
 * }
 * ```
 *
 * @module
 */
import { EchokitError } from "../../util/errors.ts";
import * as libc from "./libc.ts";
import { errnoName } from "./socket.ts";

// Syscall numbers: the same on x86_64 and aarch64 (the generic table).
const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;
const SYS_IO_URING_REGISTER = 427;

/** Request opcodes (`IORING_OP_*`) this layer uses. */
export const OP = {
  /** Does nothing; completes with 0. */
  NOP: 0,
  /** `connect(fd, addr, addrlen)`: `addr` = sockaddr, `off` = its length. */
  CONNECT: 16,
  /** `close(fd)`. */
  CLOSE: 19,
  /** `send(fd, addr, len, opFlags)`. */
  SEND: 26,
  /** `recv(fd, addr, len, opFlags)`. */
  RECV: 27,
  /** Cancels the request whose `user_data` is `addr`. */
  ASYNC_CANCEL: 14,
  /**
   * `accept4(fd, addr, off, opFlags)`; with `ioprio` {@linkcode ACCEPT_MULTISHOT}
   * one request posts a completion per connection until it fails.
   */
  ACCEPT: 13,
  /** Waits until `fd` has the `poll(2)` events in `opFlags` (e.g. `POLLIN` = 1). */
  POLL_ADD: 6,
} as const;

/** `ioprio` of an {@linkcode OP.ACCEPT}: keep accepting (Linux 5.19). */
export const ACCEPT_MULTISHOT = 1;

/** `IORING_CQE_F_MORE`: a multishot request posts more completions after this one. */
export const CQE_F_MORE = 1 << 1;

/**
 * `ioprio` of an {@linkcode OP.RECV} with {@linkcode SQE_FLAGS.BUFFER_SELECT}:
 * keep receiving, one completion per arrival, each into a buffer the kernel
 * takes from a provided group (Linux 6.0; see {@linkcode multishotRecvReason}).
 */
export const RECV_MULTISHOT = 1 << 1;

/** `IORING_CQE_F_BUFFER`: the completion filled provided buffer `flags >>> 16`. */
export const CQE_F_BUFFER = 1 << 0;

/** `IOSQE_*` flags of an SQE. */
export const SQE_FLAGS = {
  /** The next SQE starts only after this one completes. */
  IO_LINK: 1 << 2,
  /** Post no completion when this request succeeds (Linux 5.17); a failure still posts one. */
  CQE_SKIP_SUCCESS: 1 << 6,
  /**
   * The kernel picks the buffer from provided group `group` (the SQE's
   * `buf_group`; {@linkcode Ring.provideBuffers}) when data arrives.
   */
  BUFFER_SELECT: 1 << 5,
} as const;

const IORING_ENTER_GETEVENTS = 1;
const IORING_ENTER_EXT_ARG = 8;
const IORING_FEAT_SINGLE_MMAP = 1 << 0;
const IORING_FEAT_EXT_ARG = 1 << 8;
const IORING_FEAT_MIN_TIMEOUT = 1 << 15;
const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
const IORING_REGISTER_PBUF_RING = 22;
const IORING_OFF_SQ_RING = 0n;
const IORING_OFF_CQ_RING = 0x8000000n;
const IORING_OFF_SQES = 0x10000000n;
const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
const ETIME = 62;
const EINTR = 4;
const EBUSY = 16;
const EPERM = 1;
const ENOSYS = 38;
const EINVAL = 22;

/** libc's symbols this layer calls (`syscall` as io_uring_setup/enter, `mmap`, `munmap`). */
function symbols() {
  libc.requireLibc("io_uring");
  const s = libc.symbols();
  return {
    io_uring_setup: s.io_uring_setup!,
    io_uring_enter: s.io_uring_enter!,
    io_uring_register: s.io_uring_register!,
    mmap: s.mmap,
    munmap: s.munmap,
  };
}

let unavailable: string | undefined | null = null;

/**
 * Why io_uring cannot be used here, or `undefined` when it can: not Linux, no
 * FFI, `io_uring_disabled` set by an administrator, `EPERM` from a seccomp
 * profile, a kernel too old, or `ECHOKIT_IO_URING_DISABLED=1` in the
 * environment. Tries one `io_uring_setup` (cached).
 *
 * @returns A short reason such as `io_uring_disabled=2`.
 *
 * @example Usage
 * ```ts
 * import { ioUringUnavailableReason } from "./io_uring.ts";
 * console.log(ioUringUnavailableReason() ?? "io_uring is available");
 * ```
 */
export function ioUringUnavailableReason(): string | undefined {
  if (unavailable !== null) return unavailable;
  unavailable = probeIoUring();
  return unavailable;
}

/** Set to `1` to treat multishot recv as missing, as a kernel before 6.0 would (tests use it). */
export const NO_MULTISHOT_RECV_ENV = "ECHOKIT_IO_URING_NO_MULTISHOT_RECV";

/**
 * Why a multishot recv ({@linkcode RECV_MULTISHOT} into
 * {@linkcode Ring.provideBuffers}) cannot be used here, or `undefined` when
 * it can: a kernel before Linux 6.0, or {@linkcode NO_MULTISHOT_RECV_ENV}
 * set to `1`. io_uring itself must be available
 * ({@linkcode ioUringUnavailableReason}).
 *
 * @returns A short reason such as `Linux 5.15 (multishot recv needs 6.0)`.
 *
 * @example Usage
 * ```ts
 * import { multishotRecvReason } from "./io_uring.ts";
 * console.log(multishotRecvReason() ?? "multishot recv is available");
 * ```
 */
export function multishotRecvReason(): string | undefined {
  try {
    if (Deno.env.get(NO_MULTISHOT_RECV_ENV) === "1") return `${NO_MULTISHOT_RECV_ENV}=1`;
  } catch {
    // No --allow-env: the variable cannot be set for us anyway.
  }
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  const [major, minor] = Deno.osRelease().split(/[.-]/).map(Number);
  if (!(major > 6 || (major === 6 && minor >= 0))) {
    return `Linux ${major}.${minor} (multishot recv needs 6.0)`;
  }
  return undefined;
}

/** Set to `1` to treat io_uring as refused, as a locked-down host would (tests use it). */
export const IO_URING_DISABLED_ENV = "ECHOKIT_IO_URING_DISABLED";

function probeIoUring(): string | undefined {
  let forced: string | undefined;
  try {
    forced = Deno.env.get(IO_URING_DISABLED_ENV);
  } catch {
    // No --allow-env: the variable cannot be set for us anyway.
  }
  if (forced === "1") return `${IO_URING_DISABLED_ENV}=1`;
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  const why = libc.libcUnavailableReason();
  if (why !== undefined) return why;
  let disabled: string | undefined;
  try {
    disabled = Deno.readTextFileSync("/proc/sys/kernel/io_uring_disabled").trim();
  } catch {
    // Unreadable (no --allow-read, or an older kernel without the knob): try setup.
  }
  if (disabled === "2") return "io_uring_disabled=2";
  const params = new Uint8Array(120);
  const fd = symbols().io_uring_setup(SYS_IO_URING_SETUP, 2, params);
  if (fd < 0) {
    const e = libc.errno();
    if (e === EPERM) {
      return disabled === "1"
        ? "io_uring_disabled=1 and this user is not in io_uring_group"
        : "io_uring_setup: EPERM (blocked by a seccomp profile)";
    }
    if (e === ENOSYS) return "io_uring_setup: ENOSYS (kernel without io_uring)";
    return `io_uring_setup: ${errnoName(e)}`;
  }
  libc.close(fd);
  const features = new DataView(params.buffer).getUint32(20, true);
  if ((features & IORING_FEAT_EXT_ARG) === 0) {
    return "kernel too old (io_uring without IORING_FEAT_EXT_ARG, needs Linux 5.11)";
  }
  return undefined;
}

/** io_uring cannot be used here; `reason` says why. */
export class IoUringUnavailable extends EchokitError {
  /** Why, e.g. `io_uring_disabled=2`. */
  readonly reason: string;
  /**
   * Makes the error.
   *
   * @param what Who needed io_uring, e.g. `--engine uring`.
   * @param reason Why it is unavailable.
   */
  constructor(what: string, reason: string) {
    super(`Cannot use ${what}: io_uring is unavailable: ${reason}`);
    this.name = "IoUringUnavailable";
    this.reason = reason;
  }
}

/**
 * The address of a byte in an `ArrayBuffer`, for an SQE. Use off-heap buffers
 * (`new ArrayBuffer(n)`) and keep them alive while requests use them.
 *
 * @param buf The buffer.
 * @param offset Byte offset into it.
 * @returns The address as a number (exact below 2^53).
 *
 * @example Usage
 * ```ts ignore
 * import { bufferAddress } from "./io_uring.ts";
 * console.log(bufferAddress(new ArrayBuffer(64)) > 0); // true
 * ```
 */
export function bufferAddress(buf: ArrayBuffer, offset = 0): number {
  const ptr = Deno.UnsafePointer.of(new Uint8Array(buf));
  return Number(Deno.UnsafePointer.value(ptr)) + offset;
}

/** Options for {@linkcode openRing}. */
export interface RingOptions {
  /** SQ entries (rounded up to a power of two by the kernel; CQ gets twice). @default {256} */
  entries?: number;
  /**
   * Ask for `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`
   * (completions run only inside `io_uring_enter`, on this thread); falls
   * back to no flags where the kernel refuses them.
   * @default {true}
   */
  deferTaskrun?: boolean;
  /**
   * How long a wait for a batch ({@linkcode Ring.submitAndWait}'s `batch`
   * above 1) holds out for the whole batch before returning with the
   * completions that have arrived, µs. 0: no batches, every wait returns at
   * the first completion.
   * @default {0}
   */
  batchWaitUs?: number;
}

/**
 * A ring of buffers handed to the kernel ({@linkcode Ring.provideBuffers}):
 * a recv with {@linkcode SQE_FLAGS.BUFFER_SELECT} takes one when data
 * arrives, and its completion names it ({@linkcode CQE_F_BUFFER}).
 */
export interface ProvidedBuffers {
  /** The group id, for {@linkcode Ring.queue}'s `group`. */
  readonly group: number;
  /** Buffers in the group. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly size: number;
  /** Buffer `id`'s bytes (all `size`; its completion says how many were filled). */
  bytes(id: number): Uint8Array;
  /** Hands buffer `id` back to the kernel once its bytes have been read. */
  recycle(id: number): void;
}

/**
 * One io_uring: queue SQEs, submit and wait in one call, read CQEs. One
 * thread only (not shared between Workers).
 */
export interface Ring {
  /** The ring's fd. */
  readonly fd: number;
  /** SQ entries. */
  readonly entries: number;
  /** Setup flags the kernel accepted. */
  readonly flags: number;
  /**
   * Whether waits take a `batch`: {@linkcode RingOptions.batchWaitUs} was
   * set and the kernel honours it (`IORING_FEAT_MIN_TIMEOUT`, Linux 6.12).
   * Otherwise every wait returns at the first completion whatever `batch`
   * says (a batch without that bound could sit out the whole timeout).
   */
  readonly batchWaits: boolean;
  /** Free SQ slots (queued but unsubmitted entries take slots). */
  space(): number;
  /**
   * Makes room for `n` SQEs queued next, submitting what is queued (without
   * waiting) when fewer slots are free. Needed only before a linked chain,
   * which must go to the kernel in one submission; `queue` makes its own room.
   */
  reserve(n: number): void;
  /**
   * Queues one SQE, first submitting the queued ones when the SQ is full.
   * `addr` and `off` are numbers (exact below 2^53); `data` is a 32-bit
   * `user_data` returned in the completion; `ioprio` carries an op's extra
   * flags (e.g. {@linkcode ACCEPT_MULTISHOT}); `group` names the provided
   * buffer group of a request with {@linkcode SQE_FLAGS.BUFFER_SELECT}.
   */
  queue(
    op: number,
    fd: number,
    addr: number,
    len: number,
    off: number,
    opFlags: number,
    data: number,
    sqeFlags?: number,
    ioprio?: number,
    group?: number,
  ): void;
  /**
   * Registers `count` buffers of `size` bytes as provided buffer group
   * `group` (`IORING_REGISTER_PBUF_RING`, Linux 5.19) and hands them all to
   * the kernel. The buffers and their ring live until {@linkcode Ring.close}.
   *
   * @param group Group id (0–65535), unique in this ring.
   * @param count Buffers: a power of two, at most 32768.
   * @param size Bytes per buffer.
   * @throws {EchokitError} When the kernel refuses the registration.
   */
  provideBuffers(group: number, count: number, size: number): ProvidedBuffers;
  /**
   * Submits everything queued and waits up to `waitMs` for `batch`
   * completions (0 ms: do not wait). With {@linkcode RingOptions.batchWaitUs},
   * a batch not complete by then settles for the completions already there
   * (at least one). Counts one syscall.
   *
   * @returns Entries submitted, or -1 with {@linkcode libc.errno} set
   * (a timeout or `EINTR` returns 0).
   */
  submitAndWait(waitMs: number, batch?: number): number;
  /** Completions ready to read (snapshot of the CQ tail). */
  completions(): number;
  /** The `user_data` of ready completion `i` (0-based from the head). */
  completionData(i: number): number;
  /** The `res` of ready completion `i`: bytes, or `-errno`. */
  completionResult(i: number): number;
  /** The `flags` of ready completion `i` (e.g. {@linkcode CQE_F_MORE}). */
  completionFlags(i: number): number;
  /** Hands `n` read completions back to the kernel. */
  consume(n: number): void;
  /**
   * Holds `buffer` alive until {@linkcode Ring.close}. The kernel reaches a
   * buffer only by the address in an SQE, which the garbage collector does
   * not see: a buffer no JavaScript value refers to any more is freed while
   * the kernel still reads or writes it.
   */
  keep(buffer: ArrayBuffer): void;
  /** Unmaps and closes the ring. */
  close(): void;
}

/**
 * Opens an io_uring with its rings mapped into this process.
 *
 * @param options Size and setup flags.
 * @returns The ring.
 * @throws {IoUringUnavailable} Where io_uring is refused.
 *
 * @example Usage
 * ```ts ignore
 * import { openRing } from "./io_uring.ts";
 * const ring = openRing({ entries: 64 });
 * console.log(ring.entries); // 64
 * ring.close();
 * ```
 */
export function openRing(options: RingOptions = {}): Ring {
  const why = ioUringUnavailableReason();
  if (why !== undefined) throw new IoUringUnavailable("io_uring", why);
  const s = symbols();
  const params = new Uint8Array(120);
  const pv = new DataView(params.buffer);
  let flags = options.deferTaskrun ?? true
    ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
    : 0;
  pv.setUint32(8, flags, true);
  let fd = s.io_uring_setup(SYS_IO_URING_SETUP, options.entries ?? 256, params);
  if (fd < 0 && flags !== 0 && libc.errno() === EINVAL) {
    flags = 0;
    params.fill(0);
    fd = s.io_uring_setup(SYS_IO_URING_SETUP, options.entries ?? 256, params);
  }
  if (fd < 0) {
    throw new IoUringUnavailable("io_uring", `io_uring_setup: ${errnoName(libc.errno())}`);
  }
  const u32 = (o: number) => pv.getUint32(o, true);
  const sqEntries = u32(0);
  const cqEntries = u32(4);
  const features = u32(20);
  const sqOff = { head: u32(40), tail: u32(44), mask: u32(48), array: u32(64) };
  const cqOff = { head: u32(80), tail: u32(84), mask: u32(88), cqes: u32(100) };
  const sqSize = sqOff.array + sqEntries * 4;
  const cqSize = cqOff.cqes + cqEntries * 16;
  const single = (features & IORING_FEAT_SINGLE_MMAP) !== 0;
  const maps: [Deno.PointerObject, number][] = [];
  const map = (size: number, off: bigint): Deno.PointerObject => {
    const ptr = s.mmap(null, BigInt(size), PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, off);
    if (ptr === null || Deno.UnsafePointer.value(ptr) === 0xffffffffffffffffn) {
      const e = libc.errno();
      for (const [p, n] of maps) s.munmap(p, BigInt(n));
      libc.close(fd);
      throw new EchokitError(`Cannot map the io_uring rings: ${errnoName(e)}`);
    }
    maps.push([ptr, size]);
    return ptr;
  };
  const sqPtr = map(single ? Math.max(sqSize, cqSize) : sqSize, IORING_OFF_SQ_RING);
  const cqPtr = single ? sqPtr : map(cqSize, IORING_OFF_CQ_RING);
  const sqePtr = map(sqEntries * 64, IORING_OFF_SQES);
  const sqRing = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(sqPtr, sqSize));
  const cqRing = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(cqPtr, cqSize));
  const cqes32 = new Int32Array(cqRing.buffer);
  const sqes = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(sqePtr, sqEntries * 64));
  const sqHead = sqOff.head >> 2;
  const sqTail = sqOff.tail >> 2;
  const sqMask = sqRing[sqOff.mask >> 2];
  const cqHead = cqOff.head >> 2;
  const cqTail = cqOff.tail >> 2;
  const cqMask = cqRing[cqOff.mask >> 2];
  const cqBase = cqOff.cqes >> 2;
  // The index ring maps slot i to SQE i, once: we never reorder entries.
  for (let i = 0; i < sqEntries; i++) sqRing[(sqOff.array >> 2) + i] = i;
  let tail = Atomics.load(sqRing, sqTail);
  let head = Atomics.load(cqRing, cqHead);
  let ready = 0;
  // struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 min_wait_usec; u64 ts; }
  // pointing at a struct __kernel_timespec { i64 tv_sec; i64 tv_nsec; }.
  const ts = new ArrayBuffer(16);
  const tsView = new DataView(ts);
  const arg = new Uint8Array(new ArrayBuffer(24));
  const argView = new DataView(arg.buffer);
  argView.setBigUint64(16, BigInt(bufferAddress(ts)), true);
  const batchWaits = (features & IORING_FEAT_MIN_TIMEOUT) !== 0 && (options.batchWaitUs ?? 0) > 0;
  let lastWait = -1;
  // The min wait is set only for a batch above one: with it the kernel arms a
  // timer per wait, which doubles the cost of a wait for a single completion.
  let minWaitSet = false;
  const kept: ArrayBuffer[] = [];
  const TWO32 = 4294967296;
  const space = () => sqEntries - (tail - Atomics.load(sqRing, sqHead));
  const ring: Ring = {
    fd,
    entries: sqEntries,
    flags,
    batchWaits,
    space,
    reserve(n) {
      if (space() < n) ring.submitAndWait(0);
    },
    queue(op, qfd, addr, len, off, opFlags, data, sqeFlags = 0, ioprio = 0, group = 0) {
      if (space() === 0) ring.submitAndWait(0);
      const b = (tail & sqMask) << 4;
      sqes[b] = (op | (sqeFlags << 8) | (ioprio << 16)) >>> 0;
      sqes[b + 1] = qfd;
      sqes[b + 2] = off % TWO32;
      sqes[b + 3] = Math.floor(off / TWO32);
      sqes[b + 4] = addr % TWO32;
      sqes[b + 5] = Math.floor(addr / TWO32);
      sqes[b + 6] = len;
      sqes[b + 7] = opFlags;
      sqes[b + 8] = data;
      sqes[b + 9] = 0;
      sqes[b + 10] = group;
      sqes[b + 11] = 0;
      sqes[b + 12] = 0;
      sqes[b + 13] = 0;
      sqes[b + 14] = 0;
      sqes[b + 15] = 0;
      tail = (tail + 1) >>> 0;
    },
    submitAndWait(waitMs, batch = 1) {
      Atomics.store(sqRing, sqTail, tail);
      const toSubmit = (tail - Atomics.load(sqRing, sqHead)) >>> 0;
      if (waitMs !== lastWait) {
        lastWait = waitMs;
        tsView.setBigInt64(0, BigInt(Math.floor(waitMs / 1000)), true);
        tsView.setBigInt64(8, BigInt(Math.round((waitMs % 1000) * 1e6)), true);
      }
      libc.countSyscalls(1);
      const wait = waitMs <= 0 ? 0 : batchWaits ? batch : 1;
      if (batchWaits && (wait > 1) !== minWaitSet) {
        minWaitSet = wait > 1;
        argView.setUint32(12, minWaitSet ? options.batchWaitUs! : 0, true);
      }
      const n = s.io_uring_enter(
        SYS_IO_URING_ENTER,
        fd,
        toSubmit,
        wait,
        IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
        arg,
        24n,
      );
      if (n < 0) {
        const e = libc.errno();
        if (e === ETIME || e === EINTR || e === EBUSY) return 0;
      }
      return n;
    },
    completions() {
      ready = (Atomics.load(cqRing, cqTail) - head) >>> 0;
      return ready;
    },
    completionData(i) {
      return cqRing[cqBase + (((head + i) & cqMask) << 2)];
    },
    completionResult(i) {
      return cqes32[cqBase + (((head + i) & cqMask) << 2) + 2];
    },
    completionFlags(i) {
      return cqRing[cqBase + (((head + i) & cqMask) << 2) + 3];
    },
    consume(n) {
      head = (head + n) >>> 0;
      Atomics.store(cqRing, cqHead, head);
    },
    keep(buffer) {
      kept.push(buffer);
    },
    provideBuffers(group, count, size) {
      if (count < 1 || count > 32768 || (count & (count - 1)) !== 0) {
        throw new RangeError(
          `A buffer ring holds a power of two up to 32768 buffers, not ${count}`,
        );
      }
      // The ring of buffer descriptors: page-aligned memory of our own.
      // struct io_uring_buf { u64 addr; u32 len; u16 bid; u16 resv; }; the
      // ring's u16 tail overlays entry 0's resv (byte 14).
      const ringBytes = count * 16;
      const ptr = s.mmap(null, BigInt(ringBytes), PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0n);
      if (ptr === null || Deno.UnsafePointer.value(ptr) === 0xffffffffffffffffn) {
        throw new EchokitError(`Cannot map a buffer ring: ${errnoName(libc.errno())}`);
      }
      maps.push([ptr, ringBytes]);
      // struct io_uring_buf_reg { u64 ring_addr; u32 ring_entries; u16 bgid; u16 flags; u64 resv[3]; }
      const reg = new DataView(new ArrayBuffer(40));
      reg.setBigUint64(0, BigInt(Deno.UnsafePointer.value(ptr)), true);
      reg.setUint32(8, count, true);
      reg.setUint16(12, group, true);
      libc.countSyscalls(1);
      const r = s.io_uring_register(
        SYS_IO_URING_REGISTER,
        fd,
        IORING_REGISTER_PBUF_RING,
        new Uint8Array(reg.buffer),
        1,
      );
      if (r < 0) {
        throw new EchokitError(
          `Cannot register buffer group ${group} with the io_uring: ${errnoName(libc.errno())}`,
        );
      }
      const data = new ArrayBuffer(count * size);
      kept.push(data);
      const base = bufferAddress(data);
      const mem = Deno.UnsafePointerView.getArrayBuffer(ptr, ringBytes);
      const words = new Uint32Array(mem);
      const halves = new Uint16Array(mem);
      const views = Array.from({ length: count }, (_, i) => new Uint8Array(data, i * size, size));
      let bufTail = 0;
      const recycle = (id: number) => {
        const e = (bufTail & (count - 1)) << 2;
        const addr = base + id * size;
        words[e] = addr % TWO32;
        words[e + 1] = Math.floor(addr / TWO32);
        words[e + 2] = size;
        halves[(e << 1) + 6] = id;
        bufTail = (bufTail + 1) & 0xffff;
        // Publish the entry, then the tail the kernel reads.
        Atomics.store(halves, 7, bufTail);
      };
      for (let i = 0; i < count; i++) recycle(i);
      return { group, count, size, bytes: (id) => views[id], recycle };
    },
    close() {
      kept.length = 0;
      for (const [p, n] of maps) s.munmap(p, BigInt(n));
      maps.length = 0;
      libc.close(fd);
    },
  };
  return ring;
}
