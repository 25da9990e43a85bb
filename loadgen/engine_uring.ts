/**
 * The completion engine (Linux): one io_uring per engine Worker drives every
 * connection. Per loop turn the engine queues the request `send` and the echo
 * `recv` of every virtual user ready to send, submits them all with ONE
 * `io_uring_enter` that also waits for completions (with the turn's timeout),
 * then reaps every completion. Where the poll engine pays an `epoll_wait` plus
 * a `send` and a `recv` FFI call per sample, this one pays one FFI call per
 * turn for all of them.
 *
 * The wait asks for a batch: the completions of a quarter of the samples in
 * flight, or whatever has arrived after `BATCH_WAIT_US` (100 µs; Linux
 * 6.12; older kernels wake at the first). The kernel then neither wakes this
 * thread per echo nor makes it run a turn for two or three samples, which is
 * where the engine's CPU per sample went; the price is that a completion is
 * timed up to that long after it happened, far below JMeter's 1 ms.
 *
 * The echo arrives through one **multishot recv** per connection (Linux 6.0):
 * armed once, it posts a completion per arrival into a buffer the kernel
 * takes from a provided buffer ring, so a sample queues only its `send`, and
 * the recv's wait-queue entry stays on the socket instead of being added and
 * removed per sample (against the C epoll server, in one run: 1.04× against
 * 1.00× the C client's rate, 7.35 against 9.37 µs per sample; see
 * docs/benchmarks.md). Bytes a server sends past a response or between
 * samples start the next sample's response, as they would from the socket,
 * and go with the socket when it closes. Where the kernel is older (or
 * `ECHOKIT_IO_URING_NO_MULTISHOT_RECV=1`) the engine queues a one-shot recv
 * with each send.
 *
 * The schedule (ramp-up, loops, duration, `--rate`, timeouts, keep-alive) is
 * the shared {@linkcode EngineLoop}; only the I/O differs. Connect is libc's
 * non-blocking `connect`, then a `POLL_ADD` for writability on the ring.
 * A sample that ends with requests still in flight (a timeout, a failed send)
 * shuts its socket down and waits for their completions before the next
 * sample, so no late completion is mistaken for a new sample's.
 *
 * @module
 */
import * as libc from "../servers/os/libc.ts";
import {
  bufferAddress,
  CQE_F_BUFFER,
  CQE_F_MORE,
  IoUringUnavailable,
  ioUringUnavailableReason,
  multishotRecvReason,
  OP,
  openRing,
  type ProvidedBuffers,
  RECV_MULTISHOT,
  type Ring,
  SQE_FLAGS,
} from "../servers/os/io_uring.ts";
import { type EngineConfig, KIND } from "./_engine_types.ts";
import {
  connected,
  type ConnectingUser,
  EngineLoop,
  kindOfErrno,
  loopTarget,
  MORE,
  newLoopUser,
  PHASE,
  startConnect,
} from "./_engine_loop.ts";
import { nowMs } from "./_sample_stats.ts";
import type { EngineHooks } from "./engine_async.ts";

/** This engine's I/O states, after the shared {@linkcode PHASE}s. */
const State = {
  /** Non-blocking connect under way (a POLL_ADD for writability in flight). */
  Connecting: PHASE.Started,
  /** Request queued or in flight, echo being received. */
  Busy: PHASE.Started + 1,
  /** Sample over; waiting for its in-flight requests to complete. */
  Draining: PHASE.Started + 2,
} as const;

/** The request kind in the low bits of a completion's `user_data`. */
const TAG = { send: 0, recv: 1, poll: 2, cancel: 3 } as const;
const POLLOUT = 4;
/** How long a wait holds out for its batch of completions, µs. */
const BATCH_WAIT_US = 100;
const SHUT_RDWR = 2;
const ENOBUFS = 105;
/** Bytes a server sent unasked that one user keeps for its next sample, at most. */
const MAX_CARRY = 65536;
/** The provided buffers' memory, at most (else the engine uses one-shot recvs). */
const MAX_PROVIDED_BYTES = 64 << 20;

interface User extends ConnectingUser {
  sent: number;
  /** Requests of this user in flight on the ring. */
  inflight: number;
  /** 0, or the echo's kind + 2 when it arrived before the send's completion. */
  answered: number;
  buf: Uint8Array;
  /** Address of `buf` for SQEs. */
  bufAddr: number;
  /** Counted in `awaiting`. */
  awaiting: boolean;
  /** A multishot recv is armed on `fd` (counted in `inflight`). */
  armed: boolean;
  /** Bytes received past a response or between samples, for the next sample. */
  carry: Uint8Array | undefined;
}

/**
 * Runs this worker's share of the thread group on one io_uring.
 *
 * @param config What to run.
 * @param hooks Where samples and ticks go.
 * @returns When every thread has finished or the run was stopped.
 * @throws {IoUringUnavailable} Where io_uring is refused.
 */
export function runUringEngine(config: EngineConfig, hooks: EngineHooks): Promise<void> {
  const why = ioUringUnavailableReason();
  if (why !== undefined) return Promise.reject(new IoUringUnavailable("--engine uring", why));
  const { addr, sendFlags: flags } = loopTarget(config, "uring");
  const p = libc.platform();
  const msgLen = config.message.length;
  // Off-heap copies: the kernel reads and writes these addresses.
  const msgBuf = new Uint8Array(new ArrayBuffer(msgLen));
  msgBuf.set(config.message);
  const msgAddr = bufferAddress(msgBuf.buffer as ArrayBuffer);
  const strict = config.eolByte === undefined;
  const users: User[] = config.indices.map((thread, local) => {
    const buf = new Uint8Array(new ArrayBuffer(strict ? msgLen : 4096));
    return {
      ...newLoopUser(config, thread, local),
      fd: -1,
      connectStart: 0,
      sent: 0,
      inflight: 0,
      answered: 0,
      buf,
      bufAddr: bufferAddress(buf.buffer as ArrayBuffer),
      awaiting: false,
      armed: false,
      carry: undefined,
    };
  });
  /** Users whose request is out: the completions the next wait can expect (two each). */
  let awaiting = 0;
  const settle = (u: User) => {
    if (!u.awaiting) return;
    u.awaiting = false;
    awaiting--;
  };
  // Two requests at most per user; the CQ has twice the SQ's entries.
  let entries = 64;
  while (entries < 2 * users.length && entries < 4096) entries *= 2;
  const ring = openRing({ entries, batchWaitUs: BATCH_WAIT_US });
  ring.keep(msgBuf.buffer);
  const provided = provideRecvBuffers(ring, users.length, strict ? msgLen : 4096);

  /** Queues one request (the ring submits what is queued first when its SQ is full). */
  const put = (u: User, op: number, len: number, off: number, opFlags: number, tag: number) => {
    const a = op === OP.SEND ? msgAddr + off : op === OP.RECV ? u.bufAddr + off : 0;
    ring.queue(op, u.fd, a, len, 0, opFlags, u.local * 4 + tag);
    u.inflight++;
  };

  const closeFd = (u: User) => {
    if (u.fd < 0) return;
    // A connect's POLL_ADD: shutdown may not wake it, so cancel it by its user_data.
    if (u.state === State.Connecting && u.inflight > 0) {
      ring.queue(OP.ASYNC_CANCEL, -1, u.local * 4 + TAG.poll, 0, 0, 0, u.local * 4 + TAG.cancel);
    }
    // In-flight requests hold the socket open; shutdown makes them complete.
    if (u.inflight > 0) libc.shutdown(u.fd, SHUT_RDWR);
    libc.close(u.fd);
    u.fd = -1;
    // What that socket brought goes with it.
    u.carry = undefined;
  };

  /** Arms `u`'s multishot recv. */
  const arm = (u: User) => {
    ring.queue(
      OP.RECV,
      u.fd,
      0,
      0,
      0,
      0,
      u.local * 4 + TAG.recv,
      SQE_FLAGS.BUFFER_SELECT,
      RECV_MULTISHOT,
      provided!.group,
    );
    u.inflight++;
    u.armed = true;
  };

  /** Queues the recv of (the rest of) `u`'s echo, where recvs are one-shot. */
  const recvRest = (u: User) =>
    strict
      ? put(u, OP.RECV, msgLen - u.got, u.got, 0, TAG.recv)
      : put(u, OP.RECV, u.buf.length, 0, 0, TAG.recv);

  /** Queues a sample's request and the recv of its echo; the response timeout starts here. */
  const request = (u: User, now: number) => {
    loop.requestSent(u, now);
    u.state = State.Busy;
    if (!u.awaiting) {
      u.awaiting = true;
      awaiting++;
    }
    u.answered = 0;
    put(u, OP.SEND, msgLen, 0, flags, TAG.send);
    if (provided === undefined) return recvRest(u);
    if (!u.armed) arm(u);
    // What arrived before this sample is the first of its response, as a
    // recv would have read it from the socket.
    const carried = u.carry;
    u.carry = undefined;
    if (carried !== undefined) received(u, carried, now);
  };

  /** Keeps `bytes` (a provided buffer's, about to be handed back) for `u`'s next sample. */
  const keepForNext = (u: User, bytes: Uint8Array) => {
    const had = u.carry?.length ?? 0;
    const n = Math.min(bytes.length, MAX_CARRY - had);
    if (n <= 0) return;
    const next = new Uint8Array(had + n);
    if (u.carry !== undefined) next.set(u.carry);
    next.set(bytes.subarray(0, n), had);
    u.carry = next;
  };

  /** Bytes of `u`'s echo (from a provided buffer or the carry), while Busy. */
  const received = (u: User, bytes: Uint8Array, now: number) => {
    let kind: number;
    if (!strict) {
      kind = loop.responseDone(u, bytes, bytes.length, now);
    } else {
      const need = msgLen - u.got;
      if (bytes.length > need) {
        keepForNext(u, bytes.subarray(need));
        bytes = bytes.subarray(0, need);
      }
      if (u.got === 0 && bytes.length === msgLen) {
        kind = loop.responseDone(u, bytes, msgLen, now);
      } else {
        u.buf.set(bytes, u.got);
        kind = loop.responseDone(u, u.buf, bytes.length, now);
      }
    }
    if (kind !== MORE) echoEnded(u, kind, now);
  };

  /** `u`'s echo is whole (or failed as `kind`): the sample ends once its send has completed too. */
  const echoEnded = (u: User, kind: number, now: number) => {
    // Rare: the echo beat the send's completion; end the sample when that arrives.
    if (u.sent < msgLen) u.answered = kind + 2;
    else loop.complete(u, kind, now);
  };

  /** A recv that ended with `res` <= 0 ends `u`'s sample: an error, or EOF. */
  const recvEnded = (u: User, res: number, now: number) =>
    loop.complete(u, res < 0 ? kindOfErrno(p, -res, false) : KIND.eof, now);

  const loop: EngineLoop<User> = new EngineLoop(config, hooks, users, {
    begin(u) {
      u.sent = 0;
      if (u.fd < 0) {
        const connecting = startConnect(loop, u, addr);
        if (connecting === undefined) return;
        if (connecting) {
          u.state = State.Connecting;
          put(u, OP.POLL_ADD, 0, 0, POLLOUT, TAG.poll);
          return;
        }
      }
      request(u, nowMs());
    },
    end(u, close) {
      settle(u);
      // An armed multishot recv stays for the next sample on a kept connection.
      if (u.inflight > 0 && (close || u.inflight > (u.armed ? 1 : 0))) {
        // A sample that ends early always closes (kind >= 0), so the socket goes.
        closeFd(u);
        u.state = State.Draining;
        return false;
      }
      if (close) closeFd(u);
      return true;
    },
    release(u) {
      settle(u);
      closeFd(u);
    },
  });

  /** One completion of `u`'s multishot recv, `bytes` from a provided buffer (or none). */
  const multishotDone = (
    u: User,
    res: number,
    bytes: Uint8Array | undefined,
    more: boolean,
    now: number,
  ) => {
    if (!more) {
      u.inflight--;
      u.armed = false;
    }
    if (u.state === State.Draining) {
      if (u.inflight === 0) loop.resume(u, now);
      return;
    }
    if (u.state === PHASE.Done) return;
    if (u.state !== State.Busy) {
      // Between samples: bytes wait for the next sample; an end (EOF, an
      // error) leaves the recv unarmed and the next sample's recv meets it.
      if (bytes !== undefined) keepForNext(u, bytes);
      return;
    }
    if (bytes !== undefined) {
      received(u, bytes, now);
      // An ended recv (more bytes than its buffer, say): arm another while the echo is due.
      if (!u.armed && u.state === State.Busy) arm(u);
      return;
    }
    // Out of buffers: the bytes wait in the socket for a recv armed again.
    if (res === -ENOBUFS) return arm(u);
    recvEnded(u, res, now);
  };

  /** One completion of user `u`'s request `tag` with result `res`. */
  const completed = (u: User, tag: number, res: number, now: number) => {
    u.inflight--;
    if (u.state === State.Draining) {
      if (u.inflight === 0) loop.resume(u, now);
      return;
    }
    if (u.state === PHASE.Done) return;
    if (tag === TAG.poll) {
      if (u.state !== State.Connecting) return;
      if (connected(loop, u, now, res < 0 ? -res : 0)) request(u, now);
      return;
    }
    if (u.state !== State.Busy) return;
    if (tag === TAG.send) {
      if (res < 0) return loop.complete(u, kindOfErrno(p, -res, false), now);
      u.sent += res;
      if (u.sent < msgLen) return put(u, OP.SEND, msgLen - u.sent, u.sent, flags, TAG.send);
      if (u.answered > 0) loop.complete(u, u.answered - 2, now);
      return;
    }
    // The echo, from a one-shot recv.
    if (res <= 0) return recvEnded(u, res, now);
    const kind = loop.responseDone(u, u.buf, res, now);
    if (kind === MORE) return recvRest(u);
    echoEnded(u, kind, now);
  };

  try {
    while (true) {
      const timeout = loop.turn();
      if (timeout < 0) break;
      // A quarter of the samples in flight, at two completions each.
      if (ring.submitAndWait(timeout, Math.max(1, awaiting >> 1)) < 0) {
        throw new Error(`io_uring_enter failed: ${libc.strerror(libc.errno())}`);
      }
      const n = ring.completions();
      if (n === 0) continue;
      const now = nowMs();
      for (let i = 0; i < n; i++) {
        const data = ring.completionData(i);
        const tag = data & 3;
        if (tag === TAG.cancel) continue;
        const u = users[data >>> 2];
        if (u === undefined) continue;
        const res = ring.completionResult(i);
        if (tag !== TAG.recv || provided === undefined) {
          completed(u, tag, res, now);
          continue;
        }
        const cflags = ring.completionFlags(i);
        const more = (cflags & CQE_F_MORE) !== 0;
        if ((cflags & CQE_F_BUFFER) === 0) {
          multishotDone(u, res, undefined, more, now);
          continue;
        }
        const id = cflags >>> 16;
        try {
          multishotDone(u, res, provided.bytes(id).subarray(0, res), more, now);
        } finally {
          provided.recycle(id);
        }
      }
      ring.consume(n);
    }
  } finally {
    for (const u of users) closeFd(u);
    // Hand the kernel the cancels those queued (closing the ring cancels the rest).
    ring.submitAndWait(0);
    ring.close();
  }
  return Promise.resolve();
}

/**
 * The provided buffers of the engine's multishot recvs: at least two per user
 * (a power of two, at most 32768), or `undefined` where multishot recv is
 * missing, the kernel refuses the group, or they would exceed
 * `MAX_PROVIDED_BYTES` (then recvs are one-shot).
 */
function provideRecvBuffers(
  ring: Ring,
  users: number,
  size: number,
): ProvidedBuffers | undefined {
  if (multishotRecvReason() !== undefined) return undefined;
  let count = 8;
  while (count < 2 * users && count < 32768) count *= 2;
  if (count * size > MAX_PROVIDED_BYTES) return undefined;
  try {
    return ring.provideBuffers(0, count, size);
  } catch {
    return undefined;
  }
}
