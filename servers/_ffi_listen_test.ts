import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import { ffiBindAddress } from "./_ffi_listen.ts";
import { libcUnavailableReason } from "./os/libc.ts";

Deno.test({
  name: "ffiBindAddress() defaults to 127.0.0.1:0 and names the server and the way out for IPv6",
  ignore: libcUnavailableReason() !== undefined,
  fn() {
    assert.deepEqual(ffiBindAddress({}, { what: 'Mode "uring"' }), {
      hostname: "127.0.0.1",
      port: 0,
    });
    assert.deepEqual(ffiBindAddress({ hostname: "0.0.0.0", port: 7 }, { what: "x" }), {
      hostname: "0.0.0.0",
      port: 7,
    });
    assert.throws(
      () => ffiBindAddress({ hostname: "::1" }, { what: 'Mode "uring"' }),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          'Mode "uring" binds IPv4 only, not "::1" (use an IPv4 address such as 127.0.0.1)',
    );
    assert.throws(
      () =>
        ffiBindAddress({ hostname: "::1" }, { what: "The stream loop", instead: "--engine deno" }),
      /^UsageError: The stream loop binds IPv4 only, not "::1" \(use an IPv4 address such as 127\.0\.0\.1, or --engine deno\)$/,
    );
  },
});
