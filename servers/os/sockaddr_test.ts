import assert from "node:assert/strict";
import { platformFor, PLATFORMS } from "./platform.ts";
import { decodeSockaddrIn, encodeSockaddrIn, parseIpv4 } from "./sockaddr.ts";

Deno.test("encodeSockaddrIn() writes family little-endian and port big-endian on Linux", () => {
  const bytes = encodeSockaddrIn(PLATFORMS["linux/x86_64"], { hostname: "127.0.0.1", port: 7000 });
  assert.deepEqual(
    [...bytes],
    [2, 0, 0x1b, 0x58, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  );
});

Deno.test("encodeSockaddrIn() writes the BSD length byte before a one-byte family on macOS", () => {
  const bytes = encodeSockaddrIn(PLATFORMS["darwin/aarch64"], { hostname: "10.1.2.3", port: 1 });
  assert.deepEqual([...bytes.slice(0, 8)], [16, 2, 0, 1, 10, 1, 2, 3]);
  assert.equal(bytes.length, 16);
});

Deno.test("decodeSockaddrIn() inverts encodeSockaddrIn() on every platform", () => {
  for (const p of Object.values(PLATFORMS)) {
    const addr = { hostname: "192.168.200.1", port: 65535 };
    assert.deepEqual(decodeSockaddrIn(p, encodeSockaddrIn(p, addr)), addr);
  }
});

Deno.test("decodeSockaddrIn() returns undefined for a non-IPv4 family", () => {
  assert.equal(decodeSockaddrIn(PLATFORMS["linux/x86_64"], new Uint8Array(16)), undefined);
});

Deno.test("parseIpv4() accepts dotted quads and localhost, rejects the rest", () => {
  assert.deepEqual(parseIpv4("localhost"), Uint8Array.of(127, 0, 0, 1));
  assert.deepEqual(parseIpv4("0.0.0.0"), Uint8Array.of(0, 0, 0, 0));
  for (const bad of ["::1", "256.0.0.1", "1.2.3", "1.2.3.4.5", "a.b.c.d", "example.com", ""]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

Deno.test("encodeSockaddrIn() throws a RangeError for IPv6 and out-of-range ports", () => {
  const p = PLATFORMS["linux/x86_64"];
  assert.throws(() => encodeSockaddrIn(p, { hostname: "::1", port: 80 }), RangeError);
  assert.throws(() => encodeSockaddrIn(p, { hostname: "127.0.0.1", port: 70000 }), RangeError);
});

Deno.test("PLATFORMS packs struct epoll_event to 12 bytes on x86_64 and pads it to 16 on aarch64", () => {
  assert.equal(PLATFORMS["linux/x86_64"].EPOLL_EVENT_SIZE, 12);
  assert.equal(PLATFORMS["linux/x86_64"].EPOLL_DATA_OFFSET, 4);
  assert.equal(PLATFORMS["linux/aarch64"].EPOLL_EVENT_SIZE, 16);
  assert.equal(PLATFORMS["linux/aarch64"].EPOLL_DATA_OFFSET, 8);
  for (const p of Object.values(PLATFORMS)) assert.equal(p.POLLFD_SIZE, 8);
});

Deno.test("platformFor() names the unsupported OS or CPU", () => {
  assert.match(platformFor("windows", "x86_64") as string, /unsupported OS "windows"/);
  assert.match(platformFor("linux", "riscv64gc") as string, /unsupported CPU "riscv64gc"/);
  assert.equal(typeof platformFor("darwin", "aarch64"), "object");
});
