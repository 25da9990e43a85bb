import assert from "node:assert/strict";
import * as libc from "./libc.ts";
import {
  attachWaker,
  openPoller,
  openWaker,
  type PollerBackend,
  READABLE,
  WRITABLE,
} from "./poller.ts";
import {
  acceptConnection,
  connectTcp,
  listenTcp,
  localAddress,
  OsError,
  sendFlags,
  setFileLimit,
  socketError,
} from "./socket.ts";

const BACKENDS: PollerBackend[] = Deno.build.os === "linux" ? ["epoll", "poll"] : ["poll"];

for (const backend of BACKENDS) {
  Deno.test(`openPoller({ backend: "${backend}" }) reports accept, connect, data and a wake-up`, () => {
    const listener = listenTcp({ port: 0, nonblocking: true });
    const poller = openPoller({ backend });
    const waker = openWaker();
    const fds: number[] = [];
    try {
      assert.equal(poller.add(listener.fd, READABLE), 0);
      assert.equal(poller.add(waker.readFd, READABLE), 0);
      assert.equal(poller.wait(0), 0);

      const client = connectTcp(listener.addr, { nonblocking: true });
      fds.push(client.fd);
      assert.equal(poller.add(client.fd, WRITABLE), 0);
      const ready = new Map<number, number>();
      for (let tries = 0; tries < 10 && ready.size < 2; tries++) {
        const n = poller.wait(1000);
        for (let i = 0; i < n; i++) ready.set(poller.readyFd(i), poller.readyEvents(i));
      }
      assert.ok((ready.get(listener.fd)! & READABLE) !== 0, "listener readable");
      assert.ok((ready.get(client.fd)! & WRITABLE) !== 0, "client writable");
      assert.equal(socketError(client.fd), 0);

      const server = acceptConnection(listener.fd, true);
      assert.ok(server >= 0);
      fds.push(server);
      assert.equal(acceptConnection(listener.fd, true), -1);
      assert.equal(libc.errno(), libc.platform().EAGAIN);

      assert.equal(poller.remove(client.fd), 0);
      assert.equal(poller.add(server, READABLE), 0);
      const msg = new TextEncoder().encode("ping");
      assert.equal(libc.send(client.fd, msg, msg.length, sendFlags()), 4);
      let n = poller.wait(1000);
      assert.equal(n, 1);
      assert.equal(poller.readyFd(0), server);
      const buf = new Uint8Array(16);
      assert.equal(libc.recv(server, buf, buf.length, 0), 4);
      assert.equal(new TextDecoder().decode(buf.subarray(0, 4)), "ping");

      // Another thread's view of the waker (same fds) wakes this wait.
      attachWaker({ readFd: waker.readFd, writeFd: waker.writeFd }).wake();
      n = poller.wait(1000);
      assert.equal(n, 1);
      assert.equal(poller.readyFd(0), waker.readFd);
      waker.drain();
      assert.equal(poller.wait(0), 0);
    } finally {
      for (const fd of fds) libc.close(fd);
      waker.close();
      poller.close();
      libc.close(listener.fd);
    }
  });
}

Deno.test("connectTcp() throws OsError with code ECONNREFUSED for a closed port", () => {
  const listener = listenTcp({ port: 0 });
  const port = localAddress(listener.fd).port;
  libc.close(listener.fd);
  assert.throws(
    () => connectTcp({ hostname: "127.0.0.1", port }),
    (err: unknown) => err instanceof OsError && err.code === "ECONNREFUSED",
  );
});

Deno.test("listenTcp() throws OsError with code EADDRINUSE for a taken port", () => {
  const first = listenTcp({ port: 0 });
  try {
    assert.throws(
      () => listenTcp({ port: first.addr.port }),
      (err: unknown) => err instanceof OsError && err.code === "EADDRINUSE",
    );
  } finally {
    libc.close(first.fd);
  }
});

Deno.test("libc wrappers count one call each in syscallCount()", () => {
  const before = libc.syscallCount();
  libc.close(-1);
  assert.equal(libc.errno(), libc.platform().EBADF);
  assert.equal(libc.syscallCount() - before, 1);
});

Deno.test("setFileLimit() reports soft ≤ hard", () => {
  const limit = setFileLimit(undefined);
  assert.ok(limit.soft <= limit.hard && limit.soft > 0);
});
