/**
 * Worker entry of the `uring` server: receives the loop's config, says it is
 * ready, runs the loop (blocking this thread) and says when it stopped.
 *
 * @module
 */
import { runLoopWorker } from "./_loop_thread.ts";
import { runUringLoop, type UringLoopConfig } from "./uring.ts";

runLoopWorker<UringLoopConfig>((config, warn) => () => runUringLoop(config, warn));
