/**
 * Worker entry of the `uring` server: receives the loop's config, says it is
 * ready, runs the loop (blocking this thread) and says when it stopped.
 *
 * @module
 */
import { runLoopInWorker } from "./_loop_worker.ts";
import { runUringLoop } from "./uring.ts";

runLoopInWorker(runUringLoop);
