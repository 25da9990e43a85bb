/**
 * The default engine on Linux: one thread runs a readiness loop (epoll, or
 * poll) over non-blocking sockets through libc FFI — the same OS layer and the
 * same model as the `nonblocking` server, on the client side.
 *
 * Each virtual user is a small state machine (waiting to start → connecting →
 * receiving → next loop). The loop sends a request as soon as the previous
 * echo is complete, keeps every socket registered for READABLE only (level
 * triggered: it fires only when an echo arrives, so no `epoll_ctl` per
 * sample), and checks timeouts, ticks and the stop flag between waits. The hot
 * path is `send` + `epoll_wait` (shared by all ready sockets) + `recv`, with no
 * allocation and no message per sample.
 *
 * @module
 */
import * as libc from "../servers/os/libc.ts";
import { openPoller, READABLE, WRITABLE } from "../servers/os/poller.ts";
import { parseIpv4 } from "../servers/os/sockaddr.ts";
import { connectTcp, OsError, sendFlags, socketError } from "../servers/os/socket.ts";
import { type EngineConfig, KIND } from "./_engine_types.ts";
import { nowMs } from "./_sample_stats.ts";
import { groupEndAt, threadRuns, threadStartAt } from "./_schedule.ts";
import { SampleTimers } from "./_timers.ts";
import { type EngineHooks, STOP_GRACE_MS } from "./engine_async.ts";

const enum State {
  /** Ramp-up delay not over yet. */
  Waiting,
  /** Open model: waiting for the next intended send time. */
  Paced,
  /** Non-blocking connect under way (watching WRITABLE). */
  Connecting,
  /** Request partly sent; waiting for room (watching WRITABLE). */
  Sending,
  /** Request sent; reading the echo. */
  Receiving,
  /** Thread finished. */
  Done,
}

interface User {
  local: number;
  thread: number;
  startAt: number;
  endAt: number;
  state: State;
  fd: number;
  loop: number;
  intended: number;
  /** When the current sample actually began, epoch ms. */
  sentAt: number;
  /** The timers' wait before the current sample, ms. */
  waitMs: number;
  sampleStart: number;
  /** When the connect call was made, epoch ms: Connect time counts from here. */
  connectStart: number;
  connectMs: number;
  firstByte: number;
  got: number;
  sent: number;
  deadline: number;
  /** Whether `fd` is in the poller (an idle socket that turned readable is taken out). */
  watched: boolean;
  buf: Uint8Array;
}

/** Min-heap of users by intended send time (open model). */
class PaceHeap {
  #items: User[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): User | undefined {
    return this.#items[0];
  }
  push(u: User): void {
    const a = this.#items;
    a.push(u);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].intended <= a[i].intended) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): User | undefined {
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
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Runs this worker's share of the thread group on a poll loop over libc.
 *
 * @param config What to run.
 * @param hooks Where samples and ticks go.
 * @returns When every thread has finished or the run was stopped.
 */
export function runPollEngine(config: EngineConfig, hooks: EngineHooks): Promise<void> {
  const { stats } = hooks;
  const p = libc.requireLibc("the poll engine");
  const ip = parseIpv4(config.hostname);
  if (!ip) {
    return Promise.reject(
      new Error(
        `The poll engine needs an IPv4 host, not "${config.hostname}" (use --engine async)`,
      ),
    );
  }
  const addr = { hostname: config.hostname, port: config.port };
  const poller = openPoller({ maxEvents: 1024 });
  const msg = config.message;
  const msgLen = msg.length;
  const strict = config.eolByte === undefined;
  const eol = config.eolByte === undefined ? -1 : config.eolByte & 0xff;
  const flags = sendFlags();
  const gapMs = config.rate ? config.threads / config.rate * 1000 : 0;
  const timers = new SampleTimers(config);
  const byFd: (User | undefined)[] = [];
  const users: User[] = config.indices.map((thread, local) => ({
    local,
    thread,
    startAt: threadStartAt(config, thread),
    endAt: groupEndAt(config),
    state: State.Waiting,
    fd: -1,
    loop: 0,
    intended: 0,
    sampleStart: 0,
    sentAt: 0,
    waitMs: 0,
    connectStart: 0,
    connectMs: 0,
    firstByte: 0,
    got: 0,
    sent: 0,
    deadline: 0,
    watched: false,
    buf: new Uint8Array(strict ? msgLen : 4096),
  }));
  const pace = new PaceHeap();
  let nextStart = 0;
  let live = users.length;
  let stopAt = 0;

  const closeFd = (u: User) => {
    if (u.fd >= 0) {
      if (u.watched) poller.forget(u.fd);
      u.watched = false;
      byFd[u.fd] = undefined;
      libc.close(u.fd);
      u.fd = -1;
    }
  };

  const finish = (u: User) => {
    closeFd(u);
    if (u.state !== State.Waiting) stats.finished++;
    u.state = State.Done;
    u.deadline = 0;
    live--;
  };

  const kindOfErrno = (e: number, connecting: boolean): number => {
    if (e === p.ECONNREFUSED) return KIND.refused;
    if (e === p.ECONNRESET || e === p.EPIPE || e === p.ECONNABORTED) return KIND.reset;
    if (e === p.ETIMEDOUT) return KIND.timeout;
    return connecting ? KIND.connect : KIND.other;
  };

  /** Ends the current sample; on to the next loop (or the end of the thread). */
  const complete = (u: User, kind: number, now: number) => {
    u.deadline = 0;
    stats.record(
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
    if (kind >= 0) {
      closeFd(u);
      if (config.onError === "stopThread") return finish(u);
      if (config.onError === "stopTest") {
        hooks.stopTest();
        return finish(u);
      }
    } else if (!config.reuseConnection) {
      closeFd(u);
    }
    next(u, now);
  };

  /** Starts the thread's next sample, paces it (open model), or ends the thread. */
  const next = (u: User, now: number) => {
    if (stats.stopping || (config.loops >= 0 && u.loop >= config.loops) || now >= u.endAt) {
      return finish(u);
    }
    u.waitMs = 0;
    if (timers.any) {
      // Timers: wait before the sample; none starts after the end time.
      u.waitMs = timers.delayMs(u.local, now);
      u.intended = now + u.waitMs;
      if (u.intended >= u.endAt) return finish(u);
      if (u.waitMs > 0) {
        u.state = State.Paced;
        pace.push(u);
        return;
      }
    }
    if (gapMs > 0) {
      if (u.loop > 0) u.intended += gapMs;
      // A paced sample due at or after the end time would start too late.
      if (u.intended >= u.endAt) return finish(u);
      if (u.intended > now) {
        u.state = State.Paced;
        pace.push(u);
        return;
      }
    }
    begin(u, now);
  };

  const begin = (u: User, now: number) => {
    u.sampleStart = gapMs > 0 ? u.intended : now;
    u.sentAt = now;
    u.connectMs = 0;
    u.firstByte = 0;
    u.got = 0;
    u.sent = 0;
    if (u.fd < 0) {
      let inProgress: boolean;
      // Not `now` (taken before this turn's other work, or the open model's
      // intended start): Connect is the connect call's own time.
      u.connectStart = nowMs();
      try {
        const c = connectTcp(addr, { nonblocking: true, noDelay: config.noDelay ?? true });
        u.fd = c.fd;
        inProgress = c.inProgress;
      } catch (err) {
        const e = err instanceof OsError ? err.errno : 0;
        return complete(u, kindOfErrno(e, true), nowMs());
      }
      byFd[u.fd] = u;
      u.watched = true;
      if (inProgress) {
        poller.add(u.fd, WRITABLE);
        u.state = State.Connecting;
        u.deadline = config.connectTimeout > 0 ? u.connectStart + config.connectTimeout : 0;
        return;
      }
      poller.add(u.fd, READABLE);
      u.connectMs = nowMs() - u.connectStart;
    } else if (!u.watched) {
      poller.add(u.fd, READABLE);
      u.watched = true;
    }
    request(u, nowMs());
  };

  /**
   * Sends a sample's request. The response timeout starts here for every
   * sample, on a new connection or a reused (keep-alive) one.
   */
  const request = (u: User, now: number) => {
    u.deadline = config.responseTimeout > 0 ? now + config.responseTimeout : 0;
    send(u, now);
  };

  /** Sends (the rest of) the request; `Sending` calls it again when there is room. */
  const send = (u: User, now: number) => {
    const n = u.sent === 0
      ? libc.send(u.fd, msg, msgLen, flags)
      : libc.send(u.fd, msg.subarray(u.sent), msgLen - u.sent, flags);
    if (n < 0) {
      const e = libc.errno();
      if (e !== p.EAGAIN) return complete(u, kindOfErrno(e, false), now);
    } else {
      u.sent += n;
    }
    if (u.sent < msgLen) {
      // Rare (a full send buffer): watch for room, then finish the request.
      if (u.state !== State.Sending) poller.modify(u.fd, READABLE | WRITABLE);
      u.state = State.Sending;
      return;
    }
    if (u.state === State.Sending) poller.modify(u.fd, READABLE);
    u.state = State.Receiving;
  };

  const receive = (u: User) => {
    const buf = u.buf;
    while (true) {
      const want = strict ? msgLen - u.got : buf.length;
      const n = strict && u.got > 0
        ? libc.recv(u.fd, buf.subarray(u.got), want, 0)
        : libc.recv(u.fd, buf, want, 0);
      const now = nowMs();
      if (n > 0) {
        if (u.got === 0) u.firstByte = now;
        u.got += n;
        if (strict) {
          if (u.got < msgLen) continue;
          let kind = -1;
          for (let i = 0; i < msgLen; i++) {
            if (buf[i] !== msg[i]) {
              kind = KIND.mismatch;
              break;
            }
          }
          return complete(u, kind, now);
        }
        // JMeter's rule: the response ends when a read's last byte is the EOL byte.
        if (buf[n - 1] === eol) return complete(u, -1, now);
        continue;
      }
      if (n === 0) return complete(u, KIND.eof, now);
      const e = libc.errno();
      if (e === p.EAGAIN) return;
      return complete(u, kindOfErrno(e, false), now);
    }
  };

  const connected = (u: User) => {
    const now = nowMs();
    let e: number;
    try {
      e = socketError(u.fd);
    } catch (err) {
      e = err instanceof OsError ? err.errno : -1;
    }
    if (e !== 0) return complete(u, kindOfErrno(e, true), now);
    u.connectMs = now - u.connectStart;
    poller.modify(u.fd, READABLE);
    request(u, now);
  };

  // Threads whose start falls at or after the group's end time never start.
  for (const u of users) if (!threadRuns(u.startAt, u.endAt)) finish(u);

  let lastTick = nowMs();
  let lastScan = lastTick;
  try {
    while (live > 0) {
      let now = nowMs();
      if (stats.stopping) {
        // Stop: no new samples; give the ones in flight a moment, then drop them.
        if (stopAt === 0) {
          stopAt = now + STOP_GRACE_MS;
          for (const u of users) {
            if (u.state === State.Waiting || u.state === State.Paced) finish(u);
          }
          if (live === 0) break;
        } else if (now > stopAt) {
          for (const u of users) if (u.state !== State.Done) finish(u);
          break;
        }
      }
      // Ramp-up: users are in start order.
      while (nextStart < users.length && users[nextStart].startAt <= now) {
        const u = users[nextStart++];
        if (u.state !== State.Waiting) continue;
        stats.started++;
        u.intended = now;
        u.state = State.Connecting; // counted as started from here on
        next(u, now);
      }
      // Open model: send for every user whose intended time has come.
      while (pace.size > 0 && pace.peek()!.intended <= now) {
        const u = pace.pop()!;
        if (u.state === State.Paced) begin(u, now);
      }
      if (now - lastScan >= 5) {
        lastScan = now;
        for (const u of users) {
          if (u.deadline !== 0 && now > u.deadline) complete(u, KIND.timeout, now);
        }
        stats.checkMarks();
      }
      if (now - lastTick >= config.tickMs) {
        lastTick = now;
        hooks.tick();
      }
      if (live === 0) break;
      // Sleep until the next due thing, at most 5 ms (stop flag, timeouts).
      let timeout = 5;
      if (nextStart < users.length) {
        timeout = Math.min(timeout, Math.max(0, Math.ceil(users[nextStart].startAt - now)));
      }
      if (pace.size > 0) {
        timeout = Math.min(timeout, Math.max(0, Math.ceil(pace.peek()!.intended - now)));
      }
      const n = poller.wait(timeout);
      if (n < 0) {
        if (libc.errno() === p.EINTR) continue;
        throw new OsError("epoll_wait", libc.errno());
      }
      for (let i = 0; i < n; i++) {
        const u = byFd[poller.readyFd(i)];
        if (u === undefined) continue;
        switch (u.state) {
          case State.Receiving:
            receive(u);
            break;
          case State.Connecting:
            connected(u);
            break;
          case State.Sending:
            now = nowMs();
            send(u, now);
            if ((u.state as State) === State.Receiving) receive(u);
            break;
          default:
            // Readable while idle (open model): the server closed or sent
            // unasked. Level-triggered epoll would report it on every wait, so
            // unwatch it; the next sample meets the EOF or the extra bytes and
            // fails as JMeter's would.
            poller.remove(u.fd);
            u.watched = false;
            break;
        }
      }
    }
  } finally {
    for (const u of users) closeFd(u);
    poller.close();
  }
  return Promise.resolve();
}
