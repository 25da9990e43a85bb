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
import { OsError } from "../servers/os/socket.ts";
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
  /** Non-blocking connect under way (watching WRITABLE). */
  Connecting: PHASE.Started,
  /** Request partly sent; waiting for room (watching WRITABLE). */
  Sending: PHASE.Started + 1,
  /** Request sent; reading the echo. */
  Receiving: PHASE.Started + 2,
} as const;

interface User extends ConnectingUser {
  sent: number;
  /** Whether `fd` is in the poller (an idle socket that turned readable is taken out). */
  watched: boolean;
  buf: Uint8Array;
}

/**
 * Runs this worker's share of the thread group on a poll loop over libc.
 *
 * @param config What to run.
 * @param hooks Where samples and ticks go.
 * @returns When every thread has finished or the run was stopped.
 */
export function runPollEngine(config: EngineConfig, hooks: EngineHooks): Promise<void> {
  const { addr, sendFlags: flags } = loopTarget(config, "poll");
  const p = libc.platform();
  const poller = openPoller({ maxEvents: 1024 });
  const msg = config.message;
  const msgLen = msg.length;
  const strict = config.eolByte === undefined;
  const byFd: (User | undefined)[] = [];
  const users: User[] = config.indices.map((thread, local) => ({
    ...newLoopUser(config, thread, local),
    fd: -1,
    connectStart: 0,
    sent: 0,
    watched: false,
    buf: new Uint8Array(strict ? msgLen : 4096),
  }));

  const closeFd = (u: User) => {
    if (u.fd >= 0) {
      if (u.watched) poller.forget(u.fd);
      u.watched = false;
      byFd[u.fd] = undefined;
      libc.close(u.fd);
      u.fd = -1;
    }
  };

  const loop: EngineLoop<User> = new EngineLoop(config, hooks, users, {
    begin(u) {
      u.sent = 0;
      if (u.fd < 0) {
        const connecting = startConnect(loop, u, addr);
        if (connecting === undefined) return;
        byFd[u.fd] = u;
        u.watched = true;
        if (connecting) {
          poller.add(u.fd, WRITABLE);
          u.state = State.Connecting;
          return;
        }
        poller.add(u.fd, READABLE);
      } else if (!u.watched) {
        poller.add(u.fd, READABLE);
        u.watched = true;
      }
      request(u, nowMs());
    },
    end(u, close) {
      if (close) closeFd(u);
      return true;
    },
    release: closeFd,
  });

  /** Sends a sample's request. */
  const request = (u: User, now: number) => {
    loop.requestSent(u, now);
    send(u, now);
  };

  /** Sends (the rest of) the request; `Sending` calls it again when there is room. */
  const send = (u: User, now: number) => {
    const n = u.sent === 0
      ? libc.send(u.fd, msg, msgLen, flags)
      : libc.send(u.fd, msg.subarray(u.sent), msgLen - u.sent, flags);
    if (n < 0) {
      const e = libc.errno();
      if (e !== p.EAGAIN) return loop.complete(u, kindOfErrno(p, e, false), now);
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
        const kind = loop.responseDone(u, buf, n, now);
        if (kind === MORE) continue;
        return loop.complete(u, kind, now);
      }
      if (n === 0) return loop.complete(u, KIND.eof, now);
      const e = libc.errno();
      if (e === p.EAGAIN) return;
      return loop.complete(u, kindOfErrno(p, e, false), now);
    }
  };

  const connectDone = (u: User) => {
    const now = nowMs();
    if (!connected(loop, u, now)) return;
    poller.modify(u.fd, READABLE);
    request(u, now);
  };

  try {
    while (true) {
      const timeout = loop.turn();
      if (timeout < 0) break;
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
            connectDone(u);
            break;
          case State.Sending:
            send(u, nowMs());
            if ((u.state as number) === State.Receiving) receive(u);
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
