import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { LibcUnavailable, libcUnavailableReason, requireLibc } from "./libc.ts";

const root = new URL("../../", import.meta.url);
const modTs = fileURLToPath(new URL("mod.ts", root));
const config = `--config=${fileURLToPath(new URL("deno.json", root))}`;

/** Runs `deno run <flags> mod.ts <args>` and collects its output. */
function echokit(flags: string[], args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", config, ...flags, modTs, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

for (const mode of ["blocking", "nonblocking"]) {
  Deno.test(`serve --mode ${mode} without --allow-ffi says so and exits 1`, async () => {
    const out = await echokit(["--allow-net", "--allow-read"], [
      "serve",
      "--mode",
      mode,
      "--port",
      "0",
    ]).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.equal(
      stderr.trim(),
      `error: Mode "${mode}" needs libc through FFI, which is unavailable: ` +
        "FFI is not permitted (run with --allow-ffi, or -A)",
    );
  });
}

Deno.test({
  name: "serve --mode stream runs without --allow-ffi (nothing opens libc at import time)",
  ignore: Deno.build.os === "windows",
  async fn() {
    const child = echokit(["--allow-net=127.0.0.1"], ["serve", "--mode", "stream", "--port", "0"]);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let port = 0;
    while (!port) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      port = Number(/listening \S+:(\d+)/.exec(text)?.[1] ?? 0);
    }
    assert.ok(port > 0, text);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    let got = 0;
    while (got < 4) got += (await conn.read(buf.subarray(got))) ?? 4;
    assert.equal(new TextDecoder().decode(buf), "ping");
    conn.close();
    child.kill("SIGTERM");
    while (!(await reader.read()).done) {
      // Drain to EOF.
    }
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal((await child.status).code, 0, stderr);
  },
});

Deno.test("libcUnavailableReason() is undefined and requireLibc() returns the platform with --allow-ffi", () => {
  assert.equal(libcUnavailableReason(), undefined);
  const p = requireLibc("This test");
  assert.equal(p.os, Deno.build.os);
});

Deno.test("LibcUnavailable names who needed libc and why, and exits 1", () => {
  const err = new LibcUnavailable('Mode "blocking"', 'unsupported OS "windows"');
  assert.equal(
    err.message,
    'Mode "blocking" needs libc through FFI, which is unavailable: unsupported OS "windows"',
  );
  assert.equal(err.exitCode, 1);
  assert.equal(err.reason, 'unsupported OS "windows"');
});
