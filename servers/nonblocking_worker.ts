/**
 * Worker entry of the `nonblocking` server: receives the loop's config, says
 * it is ready, runs the loop (blocking this thread) and says when it stopped.
 *
 * @module
 */
import { runLoopWorker } from "./_loop_thread.ts";
import { type EchoLoopConfig, runEchoLoop } from "./nonblocking.ts";

runLoopWorker<EchoLoopConfig>((config, warn) => () => runEchoLoop(config, warn));
