/** serve()'s own checks, before any server starts. */
import assert from "node:assert/strict";
import { UsageError } from "../util/errors.ts";
import type { ServeOptions } from "./types.ts";
import { checkModeOptions, MODE_ONLY_OPTIONS, serve } from "./serve.ts";

const VALUES: Partial<ServeOptions> = {
  backend: "poll",
  batchWaitUs: 50,
  maxThreads: 4,
  prespawn: 1,
};

for (const o of MODE_ONLY_OPTIONS) {
  const other = o.mode === "stream" ? "protocol" : "stream";
  Deno.test(`serve() refuses ${o.field} outside --mode ${o.mode}, with one process or several`, async () => {
    for (const processes of [1, 2]) {
      await assert.rejects(
        serve({ mode: other, port: 0, processes, [o.field]: VALUES[o.field] }),
        (err: Error) => {
          assert.ok(err instanceof UsageError, String(err));
          assert.equal(
            err.message,
            `Option --${o.flag} applies to --mode ${o.mode} only (got --mode ${other})`,
          );
          return true;
        },
      );
    }
  });
}

Deno.test("checkModeOptions() lets each mode-only option through in its own mode", () => {
  for (const o of MODE_ONLY_OPTIONS) {
    assert.ok(o.field in VALUES, `no test value for ${o.field}`);
    checkModeOptions(o.mode, (set) => set === o);
  }
  checkModeOptions("stream", () => false);
});
