/**
 * The part of a loop engine that does not depend on how its sockets are
 * driven: each virtual user's schedule (ramp-up, loops, duration, Constant
 * Timer, the open model's intended start times), what happens after a sample
 * (keep-alive, reconnect, `onError`), timeouts, stop and ticks. The readiness
 * engine (`engine_poll.ts`) and the completion engine (`engine_uring.ts`)
 * plug their I/O into it through {@linkcode LoopIo}. Private to `loadgen/`.
 *
 * @module
 */
import * as libc from "../servers/os/libc.ts";
import type { Platform } from "../servers/os/platform.ts";
import { type Ipv4Addr, parseIpv4 } from "../servers/os/sockaddr.ts";
import {
  connectTcp,
  OsError,
  sendFlags,
  socketError,
  type TcpConnectFd,
} from "../servers/os/socket.ts";
import { type EngineConfig, KIND } from "./_engine_types.ts";
import { nowMs } from "./_sample_stats.ts";
import { groupEndAt, threadRuns, threadStartAt } from "./_schedule.ts";
import { SampleTimers } from "./_timers.ts";
import { type EngineHooks, STOP_GRACE_MS } from "./engine_async.ts";

/**
 * Phases every engine shares; an engine numbers its own I/O states from
 * {@linkcode PHASE.Started} up.
 */
export const PHASE = {
  /** Ramp-up delay not over yet. */
  Waiting: 0,
  /** Open model or Constant Timer: waiting for the next intended send time. */
  Paced: 1,
  /** Thread finished. */
  Done: 2,
  /** Started and doing I/O (engines use this and higher values). */
  Started: 3,
} as const;

/** A virtual user's schedule fields; engines extend it with their I/O state. */
export interface LoopUser {
  /** Index in this worker. */
  local: number;
  /** Index in the plan. */
  thread: number;
  /** When the thread starts, epoch ms. */
  startAt: number;
  /** The group's end time, epoch ms. */
  endAt: number;
  /** A {@linkcode PHASE} or an engine's own state. */
  state: number;
  /** Samples done. */
  loop: number;
  /** Open model: the current sample's intended start, epoch ms. */
  intended: number;
  /** The current sample's start (intended start in the open model), epoch ms. */
  sampleStart: number;
  /** When the current sample actually began, epoch ms. */
  sentAt: number;
  /** The timers' wait before the current sample, ms. */
  waitMs: number;
  /** Epoch ms after which the current step times out (0: none). */
  deadline: number;
  /** Time spent connecting in this sample, ms. */
  connectMs: number;
  /** First response byte, epoch ms (0: none yet). */
  firstByte: number;
  /** Response bytes so far. */
  got: number;
  /** The sample that just ended failed and `onError` ends the thread. */
  failed: boolean;
}

/** What an engine's I/O does for the scheduler. */
export interface LoopIo<U extends LoopUser> {
  /** Starts a sample: connect if needed, then send. `sampleStart` is set. */
  begin(u: U, now: number): void;
  /**
   * The sample ended; close the connection when `close`. Return false when
   * requests are still in flight: the engine then calls
   * {@linkcode EngineLoop.resume} once they have completed.
   */
  end(u: U, close: boolean): boolean;
  /** Closes the user's connection, if any (the thread is finishing). */
  release(u: U): void;
}

/** Min-heap of users by intended send time (open model). */
class PaceHeap<U extends { intended: number }> {
  #items: U[] = [];
  /** Users in the heap. */
  get size(): number {
    return this.#items.length;
  }
  /** The earliest user, without taking it out. */
  peek(): U | undefined {
    return this.#items[0];
  }
  /** Adds a user. */
  push(u: U): void {
    const a = this.#items;
    a.push(u);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].intended <= a[i].intended) break;
      const t = a[p];
      a[p] = a[i];
      a[i] = t;
      i = p;
    }
  }
  /** Takes out the earliest user. */
  pop(): U | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].intended < a[m].intended) m = l;
        if (r < a.length && a[r].intended < a[m].intended) m = r;
        if (m === i) break;
        const t = a[m];
        a[m] = a[i];
        a[i] = t;
        i = m;
      }
    }
    return top;
  }
}

/**
 * The error kind of a failed socket call.
 *
 * @param p The platform's errno values.
 * @param e The errno.
 * @param connecting Whether the call was part of connecting.
 * @returns A {@linkcode KIND} code.
 */
export function kindOfErrno(p: Platform, e: number, connecting: boolean): number {
  if (e === p.ECONNREFUSED) return KIND.refused;
  if (e === p.ECONNRESET || e === p.EPIPE || e === p.ECONNABORTED) return KIND.reset;
  if (e === p.ETIMEDOUT) return KIND.timeout;
  return connecting ? KIND.connect : KIND.other;
}

/** The connection fields of a loop engine's user. */
export interface ConnectingUser extends LoopUser {
  /** The socket, or -1. */
  fd: number;
  /** When the connect call was made, epoch ms: Connect time counts from here. */
  connectStart: number;
}

/**
 * Starts a sample's non-blocking connect: sets `fd` and `connectStart`, then
 * the connect deadline (still connecting) or `connectMs` (connected at once);
 * on failure completes the sample.
 *
 * @param loop The engine's loop.
 * @param u The user, with no connection.
 * @param addr The target.
 * @returns `undefined` when it failed, true while connecting, false when connected.
 */
export function startConnect<U extends ConnectingUser>(
  loop: EngineLoop<U>,
  u: U,
  addr: Ipv4Addr,
): boolean | undefined {
  const config = loop.config;
  // Not the turn's `now` (or the open model's intended start): Connect is the
  // connect call's own time.
  u.connectStart = nowMs();
  let c: TcpConnectFd;
  try {
    c = connectTcp(addr, { nonblocking: true, noDelay: config.noDelay ?? true });
  } catch (err) {
    const e = err instanceof OsError ? err.errno : 0;
    loop.complete(u, kindOfErrno(loop.platform, e, true), nowMs());
    return undefined;
  }
  u.fd = c.fd;
  if (c.inProgress) {
    u.deadline = config.connectTimeout > 0 ? u.connectStart + config.connectTimeout : 0;
  } else {
    u.connectMs = nowMs() - u.connectStart;
  }
  return c.inProgress;
}

/**
 * A non-blocking connect has finished (its socket turned writable, or the
 * wait for it failed with `errno`): sets `connectMs` when it connected, else
 * completes the sample with the failure's kind.
 *
 * @param loop The engine's loop.
 * @param u The user, connecting.
 * @param now Epoch ms.
 * @param errno The wait's own failure, or 0 to read the socket's `SO_ERROR`.
 * @returns Whether the socket is connected (the engine sends next).
 */
export function connected<U extends ConnectingUser>(
  loop: EngineLoop<U>,
  u: U,
  now: number,
  errno = 0,
): boolean {
  let e = errno;
  if (e === 0) {
    try {
      e = socketError(u.fd);
    } catch (err) {
      e = err instanceof OsError ? err.errno : -1;
    }
  }
  if (e !== 0) {
    loop.complete(u, kindOfErrno(loop.platform, e, true), now);
    return false;
  }
  u.connectMs = now - u.connectStart;
  return true;
}

/** {@linkcode EngineLoop.responseDone}'s answer while the response is incomplete. */
export const MORE = -2;

/** What both socket engines take from the config before they connect. */
export interface LoopTarget {
  /** The server. */
  addr: Ipv4Addr;
  /** `send` flags (no SIGPIPE). */
  sendFlags: number;
}

/**
 * The target of a socket engine, which needs libc and an IPv4 host.
 *
 * @param config What to run.
 * @param engine The engine's name, for errors (`poll`, `uring`).
 * @returns The address and send flags.
 * @throws {Error} When the host is not IPv4, naming it and the way out.
 */
export function loopTarget(config: EngineConfig, engine: string): LoopTarget {
  libc.requireLibc(`the ${engine} engine`);
  if (!parseIpv4(config.hostname)) {
    throw new Error(
      `The ${engine} engine needs an IPv4 host, not "${config.hostname}" (use --engine async)`,
    );
  }
  return { addr: { hostname: config.hostname, port: config.port }, sendFlags: sendFlags() };
}

/** The schedule fields of a new user for plan thread `thread`. */
export function newLoopUser(config: EngineConfig, thread: number, local: number): LoopUser {
  return {
    local,
    thread,
    startAt: threadStartAt(config, thread),
    endAt: groupEndAt(config),
    state: PHASE.Waiting,
    loop: 0,
    intended: 0,
    sampleStart: 0,
    sentAt: 0,
    waitMs: 0,
    deadline: 0,
    connectMs: 0,
    firstByte: 0,
    got: 0,
    failed: false,
  };
}

/**
 * Schedules one worker's users; the engine calls {@linkcode EngineLoop.turn}
 * before each wait and {@linkcode EngineLoop.complete} when a sample ends.
 */
export class EngineLoop<U extends LoopUser> {
  /** Users not yet done. */
  live: number;
  /** What it runs. */
  readonly config: EngineConfig;
  /** The platform's errno values. */
  readonly platform: Platform;
  readonly #hooks: EngineHooks;
  readonly #io: LoopIo<U>;
  readonly #users: U[];
  readonly #pace = new PaceHeap<U>();
  readonly #gapMs: number;
  readonly #timers: SampleTimers;
  readonly #strict: boolean;
  readonly #eol: number;
  readonly #responseTimeout: number;
  #nextStart = 0;
  #stopAt = 0;
  #lastTick: number;
  #lastScan: number;

  /**
   * @param config What to run.
   * @param hooks Where samples and ticks go.
   * @param users The users, in start order.
   * @param io The engine's I/O.
   */
  constructor(config: EngineConfig, hooks: EngineHooks, users: U[], io: LoopIo<U>) {
    this.config = config;
    this.platform = libc.platform();
    this.#hooks = hooks;
    this.#io = io;
    this.#users = users;
    this.live = users.length;
    this.#gapMs = config.rate ? config.threads / config.rate * 1000 : 0;
    this.#timers = new SampleTimers(config);
    this.#strict = config.eolByte === undefined;
    this.#eol = config.eolByte === undefined ? -1 : config.eolByte & 0xff;
    this.#responseTimeout = config.responseTimeout;
    this.#lastTick = this.#lastScan = nowMs();
    // Threads whose start falls at or after the group's end time never start.
    for (const u of users) if (!threadRuns(u.startAt, u.endAt)) this.finish(u);
  }

  /** Ends the thread: closes its connection and counts it finished. */
  finish(u: U): void {
    this.#io.release(u);
    if (u.state !== PHASE.Waiting) this.#hooks.stats.finished++;
    u.state = PHASE.Done;
    u.deadline = 0;
    this.live--;
  }

  /** Ends the current sample (`kind` -1: success); on to the next loop. */
  complete(u: U, kind: number, now: number): void {
    u.deadline = 0;
    this.#hooks.stats.record(
      u.local,
      u.thread,
      u.sampleStart,
      now,
      u.firstByte,
      u.connectMs,
      u.got,
      kind,
      u.sentAt,
      u.waitMs,
    );
    u.loop++;
    const close = kind >= 0 || !this.config.reuseConnection;
    u.failed = kind >= 0 && this.config.onError !== "continue";
    if (this.#io.end(u, close)) this.resume(u, nowMs());
  }

  /** The request is going out: the response timeout starts now (new or reused connection). */
  requestSent(u: U, now: number): void {
    u.deadline = this.#responseTimeout > 0 ? now + this.#responseTimeout : 0;
  }

  /**
   * Counts `n` response bytes that have just landed and says whether the
   * response is complete: strict echo needs the whole message back (then
   * checks it), JMeter's EOL mode ends when a read's last byte is the EOL byte.
   *
   * @param u The user.
   * @param buf The response so far (strict echo: from byte 0), or this read (EOL mode).
   * @param n Bytes this read added.
   * @param now Epoch ms.
   * @returns {@linkcode MORE}, or the sample's kind (-1: success).
   */
  responseDone(u: U, buf: Uint8Array, n: number, now: number): number {
    if (u.got === 0) u.firstByte = now;
    u.got += n;
    if (!this.#strict) return buf[n - 1] === this.#eol ? -1 : MORE;
    const msg = this.config.message;
    if (u.got < msg.length) return MORE;
    for (let i = 0; i < msg.length; i++) if (buf[i] !== msg[i]) return KIND.mismatch;
    return -1;
  }

  /** Continues a user whose sample ended (after {@linkcode LoopIo.end} said not yet). */
  resume(u: U, now: number): void {
    if (u.failed) {
      u.failed = false;
      if (this.config.onError === "stopTest") this.#hooks.stopTest();
      return this.finish(u);
    }
    this.#next(u, now);
  }

  /** Starts the thread's next sample, paces it (open model), or ends the thread. */
  #next(u: U, now: number): void {
    const config = this.config;
    if (
      this.#hooks.stats.stopping || (config.loops >= 0 && u.loop >= config.loops) ||
      now >= u.endAt
    ) {
      return this.finish(u);
    }
    u.waitMs = 0;
    if (this.#timers.any) {
      // Timers: wait before the sample; none starts after the end time.
      u.waitMs = this.#timers.delayMs(u.local, now);
      u.intended = now + u.waitMs;
      if (u.intended >= u.endAt) return this.finish(u);
      if (u.waitMs > 0) {
        u.state = PHASE.Paced;
        this.#pace.push(u);
        return;
      }
    }
    if (this.#gapMs > 0) {
      if (u.loop > 0) u.intended += this.#gapMs;
      // A paced sample due at or after the end time would start too late.
      if (u.intended >= u.endAt) return this.finish(u);
      if (u.intended > now) {
        u.state = PHASE.Paced;
        this.#pace.push(u);
        return;
      }
    }
    this.#begin(u, now);
  }

  #begin(u: U, now: number): void {
    u.sampleStart = this.#gapMs > 0 ? u.intended : now;
    u.sentAt = now;
    u.connectMs = 0;
    u.firstByte = 0;
    u.got = 0;
    this.#io.begin(u, now);
  }

  /**
   * One turn's scheduling: stop, ramp-up, paced starts, timeouts (every
   * 5 ms), ticks.
   *
   * @returns How long the engine may wait for I/O, ms, or -1 when every
   * user is done (or dropped at the end of the stop grace).
   */
  turn(): number {
    const now = nowMs();
    const users = this.#users;
    const stats = this.#hooks.stats;
    if (stats.stopping) {
      // Stop: no new samples; give the ones in flight a moment, then drop them.
      if (this.#stopAt === 0) {
        this.#stopAt = now + STOP_GRACE_MS;
        for (const u of users) {
          if (u.state === PHASE.Waiting || u.state === PHASE.Paced) this.finish(u);
        }
      } else if (now > this.#stopAt) {
        for (const u of users) if (u.state !== PHASE.Done) this.finish(u);
      }
      if (this.live === 0) return -1;
    }
    // Ramp-up: users are in start order.
    while (this.#nextStart < users.length && users[this.#nextStart].startAt <= now) {
      const u = users[this.#nextStart++];
      if (u.state !== PHASE.Waiting) continue;
      stats.started++;
      u.intended = now;
      u.state = PHASE.Started; // counted as started from here on
      this.#next(u, now);
    }
    // Open model: send for every user whose intended time has come.
    const pace = this.#pace;
    while (pace.size > 0 && pace.peek()!.intended <= now) {
      const u = pace.pop()!;
      if (u.state === PHASE.Paced) this.#begin(u, now);
    }
    if (now - this.#lastScan >= 5) {
      this.#lastScan = now;
      for (const u of users) {
        if (u.deadline !== 0 && now > u.deadline) this.complete(u, KIND.timeout, now);
      }
      stats.checkMarks();
    }
    if (now - this.#lastTick >= this.config.tickMs) {
      this.#lastTick = now;
      this.#hooks.tick();
    }
    if (this.live === 0) return -1;
    // Sleep until the next due thing, at most 5 ms (stop flag, timeouts).
    let timeout = 5;
    if (this.#nextStart < users.length) {
      timeout = Math.min(timeout, Math.max(0, Math.ceil(users[this.#nextStart].startAt - now)));
    }
    if (pace.size > 0) {
      timeout = Math.min(timeout, Math.max(0, Math.ceil(pace.peek()!.intended - now)));
    }
    return timeout;
  }
}
