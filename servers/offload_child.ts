/**
 * A process-pool member for `serve --offload processes`, run as the hidden
 * `echokit _offload-worker` command: reads length-prefixed messages on stdin,
 * does the work synchronously for each, writes each back on stdout in the
 * same framing, and exits when stdin closes (the server stopped or died).
 *
 * @module
 */
import { FrameReader, READY_FRAME } from "./offload.ts";
import { doWorkSync, warmUpCpu, type Work } from "./work.ts";

/** What a process-pool member does per message. */
export interface OffloadChildOptions {
  /** The work per message; none: echo straight back. */
  work?: Work;
  /** CPU rate for `cpu` work. */
  iterationsPerMs: number;
}

/**
 * Serves offload tasks on stdin/stdout until stdin closes.
 *
 * @param options The work per message.
 * @returns Resolves at EOF.
 *
 * @example Usage
 * ```ts ignore
 * import { runOffloadChild } from "./offload_child.ts";
 * await runOffloadChild({ work: { kind: "cpu", ms: 1 }, iterationsPerMs: 100000 });
 * ```
 */
export async function runOffloadChild(options: OffloadChildOptions): Promise<void> {
  warmUpCpu(options.work, options.iterationsPerMs);
  writeFrame(undefined);
  const frames = new FrameReader();
  for await (const chunk of Deno.stdin.readable) {
    for (const frame of frames.push(chunk)) {
      if (frame === "ready") continue;
      // An empty message is the pool's warm-up ping: no work for it.
      if (frame.length > 0 && options.work) doWorkSync(options.work, options.iterationsPerMs);
      writeFrame(frame);
    }
  }
}

function writeFrame(data: Uint8Array | undefined): void {
  const frame = new Uint8Array(4 + (data?.length ?? 0));
  new DataView(frame.buffer).setUint32(0, data ? data.length : READY_FRAME, true);
  if (data) frame.set(data, 4);
  // A blocking write: this process does one task at a time anyway.
  let off = 0;
  while (off < frame.length) off += Deno.stdout.writeSync(frame.subarray(off));
}
