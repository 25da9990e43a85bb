/**
 * What {@linkcode ./run.ts} `runLoad` takes, and the checks it makes on it
 * before anything is started: a bad option costs no server and no socket.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import type { Mode } from "../servers/types.ts";
import type { EngineName } from "./_engine_types.ts";
import type { LoadProgress } from "./_run_output.ts";
import { jtlThreadGroupName } from "./jtl.ts";
import { segmentThreads } from "./segment.ts";
import type { Plan, Segment } from "./types.ts";

/** Options for `runLoad` ({@link ./run.ts}). */
export interface RunLoadOptions {
  /** The plan to run (already resolved and checked). */
  plan: Plan;
  /**
   * Host to load. Ignored with `spawn`.
   *
   * @default {plan.host ?? "127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port to load. Ignored with `spawn`.
   *
   * @default {plan.port ?? 7000}
   */
  port?: number;
  /** Start `echokit serve --mode <spawn> --port 0` for the run, sample it, stop it at the end. */
  spawn?: Mode;
  /** Extra `serve` flags for `spawn`. */
  spawnArgs?: string[];
  /** Server process whose tree is sampled for CPU and memory. @default {the spawned server's pid} */
  pid?: number;
  /** Seconds between `summary +` lines (JMeter's `summariser.interval`). @default {30} */
  intervalSeconds?: number;
  /** Leading seconds whose samples are excluded from the figures (reported apart). @default {0} */
  warmupSeconds?: number;
  /** Engine. @default {"poll" on Linux, else "async"} */
  engine?: EngineName;
  /** Workers the threads are shared between. @default {1} */
  workers?: number;
  /**
   * Write every measured sample to this file as a JMeter CSV JTL; with a
   * warm-up, its samples go to `FILE.warmup.jtl` ({@linkcode jtlWarmupPath}).
   */
  jtl?: string;
  /**
   * The JTL `timeStamp` with `rate`: `intended`, each sample's scheduled send
   * time (its `elapsed` is measured from it, so coordinated omission shows),
   * or `actual`, when it was really sent (`elapsed` unchanged, so the JTL's
   * totals still equal the run's). Without `rate` the two are the same.
   *
   * @default {"intended"}
   */
  jtlTimestamps?: "intended" | "actual";
  /**
   * Host label for the JTL's thread names: `hostA` writes `hostA-Thread Group 1-1`,
   * as JMeter's distributed mode does, so JTLs from several load hosts
   * concatenate without their threads colliding ({@linkcode jtlThreadGroupName}).
   */
  jtlThreadPrefix?: string;
  /** Open model: total samples per second, latency measured from each intended send time. */
  rate?: number;
  /** Abort to stop gracefully: threads stop, final figures are still produced. */
  signal?: AbortSignal;
  /** Receives each summary line as it is due (`summary +`, `summary =`). */
  onLine?: (line: string) => void;
  /** Receives a progress snapshot about four times a second. */
  onProgress?: (progress: LoadProgress) => void;
  /** Receives notes for the user (server spawned, warm-up over). */
  onNote?: (note: string) => void;
  /** How long to wait for a spawned server to serve, ms. @default {60000} */
  spawnTimeout?: number;
  /**
   * Run only this segment of the plan: the whole plan's threads k with
   * k mod count = index, on the whole plan's schedule (`loadgen/segment.ts`).
   * `rate` stays the whole plan's rate; the segment sends its threads' share.
   * The result's `plan.threads` is the segment's thread count.
   */
  segment?: Segment;
  /**
   * Epoch ms at which the test starts (thread 0 of the whole plan), so that
   * segments on several machines start together. Up to 1 s in the past starts now.
   */
  startAt?: number;
}

/** What {@linkcode checkRunOptions} derived from the options. */
export interface CheckedRunOptions {
  /** Engine Workers. */
  workers: number;
  /** Warm-up seconds (0: none). */
  warmupSeconds: number;
  /** The whole plan's thread numbers this run drives; all of them without a segment. */
  threadIndices: number[];
  /** The JTL `threadName` prefix's group part. */
  threadGroupName: string;
}

/**
 * Checks the options `runLoad` takes, before anything starts.
 *
 * @param options The options.
 * @returns What the run derives from them.
 * @throws {UsageError} Naming the option and what to give instead.
 */
export function checkRunOptions(options: RunLoadOptions): CheckedRunOptions {
  const { plan } = options;
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new UsageError(`Invalid workers "${workers}" (use a whole number from 1 to 64)`);
  }
  if (options.rate !== undefined && !(options.rate > 0)) {
    throw new UsageError(`Invalid rate "${options.rate}" (use a number of samples/s above 0)`);
  }
  if (options.rate !== undefined && (plan.timerMs ?? 0) > 0) {
    throw new UsageError(
      `Plan "${plan.name}" has a ${plan.timerMs} ms timer before each sample, which --rate would fight (drop --rate or the timer)`,
    );
  }
  if (options.rate !== undefined && (plan.randomTimer || plan.throughput)) {
    throw new UsageError(
      `Plan "${plan.name}" has a ${
        plan.throughput ? "throughput" : "random"
      } timer before each sample, which --rate would fight (drop --rate or the timer)`,
    );
  }
  const stamps = options.jtlTimestamps ?? "intended";
  if (stamps !== "intended" && stamps !== "actual") {
    throw new UsageError(
      `Invalid JTL timestamps "${String(stamps).slice(0, 40)}" (use intended or actual)`,
    );
  }
  const warmupSeconds = options.warmupSeconds ?? 0;
  if (!(warmupSeconds >= 0)) {
    throw new UsageError(`Invalid warmup "${warmupSeconds}" (use seconds of 0 or more)`);
  }
  const segment = options.segment;
  if (
    segment &&
    !(Number.isInteger(segment.count) && segment.count >= 1 && Number.isInteger(segment.index) &&
      segment.index >= 0 && segment.index < segment.count)
  ) {
    throw new UsageError(
      `Invalid segment "${segment.index}/${segment.count}" (use I/N with 0 ≤ I < N)`,
    );
  }
  // The whole plan's thread numbers this run drives; all of them without a segment.
  const threadIndices = segmentThreads(plan.threads, segment);
  if (threadIndices.length === 0) {
    throw new UsageError(
      `Segment "${segment!.index}/${
        segment!.count
      }" of plan "${plan.name}" has no threads (the plan has ${plan.threads}; use at most ${plan.threads} segments)`,
    );
  }
  if (options.startAt !== undefined && !(options.startAt >= Date.now() - 1000)) {
    throw new UsageError(
      `Invalid start time "${
        new Date(options.startAt).toISOString()
      }": more than 1 s in the past (give a time in the future)`,
    );
  }
  // Checked before a server is spawned, so a bad label costs nothing.
  const threadGroupName = jtlThreadGroupName(options.jtlThreadPrefix, plan.threadGroup);
  return { workers, warmupSeconds, threadIndices, threadGroupName };
}
