/**
 * The messages between `runLoad` (main thread) and the engine workers, and
 * the shared control block. Private to `loadgen/`.
 *
 * Workers never send a message per sample: they post one {@linkcode TickMessage}
 * of counters every tick, and their histogram once, at the end.
 *
 * @module
 */
import type { ErrorKind, OnError, RandomTimer, Throughput } from "./types.ts";

/** Error kinds in code order: a sample's kind travels as its index. */
export const ERROR_KINDS: readonly ErrorKind[] = [
  "timeout",
  "mismatch",
  "eof",
  "refused",
  "reset",
  "connect",
  "other",
];

/** Error kind codes (index into {@linkcode ERROR_KINDS}). */
export const KIND = {
  timeout: 0,
  mismatch: 1,
  eof: 2,
  refused: 3,
  reset: 4,
  connect: 5,
  other: 6,
} as const;

/** Which engine drives the connections. */
export type EngineName = "poll" | "uring" | "async";

/** Slots of the shared control block (an Int32Array over a SharedArrayBuffer). */
export const CTRL = {
  /** Non-zero: stop gracefully (finish nothing new, close connections, report). */
  stop: 0,
  /** Non-zero: every thread has started; snapshot per-thread counts (fairness window start). */
  markStart: 1,
  /** Non-zero: a thread finished or the run is stopping; snapshot again (window end). */
  markEnd: 2,
  /** Threads active across every worker (JMeter's count for a Constant Throughput Timer). */
  active: 3,
  /** Constant Throughput Timer, shared modes: the last scheduled sample, ms after `startTime`. */
  throughputLast: 4,
  /** Precise Throughput Timer: the next event's number, shared by every thread. */
  preciseNext: 5,
  /** Slots in the block. */
  size: 8,
} as const;

/** JTL record layout: one Float64Array row per sample. */
export const JTL_STRIDE = 10;
/** Field offsets inside a JTL record row. */
export const JTL = {
  /** Start time, epoch ms (fractional). */
  start: 0,
  /** JMeter elapsed, whole ms. */
  elapsed: 1,
  /** Time to first response byte, whole ms. */
  latency: 2,
  /** Time to connect, whole ms (0 on a reused connection). */
  connect: 3,
  /** Response bytes. */
  bytes: 4,
  /** Error kind code, or -1 on success. */
  kind: 5,
  /** Thread index in the plan (0-based). */
  thread: 6,
  /** Bytes read before the failure (for JMeter's ReadException message). */
  spare: 7,
  /** When the request was actually sent, epoch ms (differs from `start` with `--rate`). */
  sent: 8,
  /** The timers' wait before this sample, ms (a Transaction Controller's timer time). */
  wait: 9,
} as const;

/** What one worker runs. */
export interface EngineConfig {
  /** Engine kind. */
  engine: EngineName;
  /** Worker number (0-based). */
  worker: number;
  /** Target host. */
  hostname: string;
  /** Target port. */
  port: number;
  /** Threads in the whole plan (for ramp-up spacing). */
  threads: number;
  /** Plan thread indices this worker runs. */
  indices: number[];
  /** Loops per thread; -1 = until duration or stop. */
  loops: number;
  /** Ramp-up, ms. */
  rampUpMs: number;
  /** Startup delay before the first thread, ms (JMeter `ThreadGroup.delay`). */
  delayMs?: number;
  /**
   * Test-wide duration, ms from `startTime` + `delayMs`: every thread stops at
   * the same end time (see `_schedule.ts`).
   */
  durationMs?: number;
  /** Milliseconds each thread waits before each sample (Constant Timers); 0 = none. */
  timerMs?: number;
  /** A Uniform or Gaussian Random Timer's random part (see `_timers.ts`). */
  randomTimer?: RandomTimer;
  /** A Constant or Precise Throughput Timer (see `_timers.ts`). */
  throughput?: Throughput;
  /** Connect timeout ms; 0 = none. */
  connectTimeout: number;
  /** Response timeout ms; 0 = none. */
  responseTimeout: number;
  /** Set TCP_NODELAY on each connection. @default {true} */
  noDelay?: boolean;
  /** Keep connections across loops. */
  reuseConnection: boolean;
  /** After an error. */
  onError: OnError;
  /** JMeter EOL byte, or undefined for strict echo. */
  eolByte?: number;
  /** The request bytes. */
  message: Uint8Array;
  /** Epoch ms when thread 0 starts. */
  startTime: number;
  /** Epoch ms: samples that start before this are warm-up. */
  warmupEnd: number;
  /** Open model: total samples/s for the whole plan (this worker does its share). */
  rate?: number;
  /** Whether to ship per-sample JTL records. */
  jtl: boolean;
  /** How often to post counters, ms. */
  tickMs: number;
  /** Shared control block. */
  control: SharedArrayBuffer;
}

/** Counters for one tick (measured samples exclude warm-up). */
export interface TickMessage {
  /** Message type. */
  type: "tick";
  /** Worker number. */
  worker: number;
  /** When the tick was taken, epoch ms. */
  time: number;
  /** Measured samples in the tick. */
  count: number;
  /** Measured failed samples. */
  errors: number;
  /** Sum of JMeter elapsed ms. */
  sumMs: number;
  /** Smallest elapsed ms (Infinity when count is 0). */
  minMs: number;
  /** Largest elapsed ms (-Infinity when count is 0). */
  maxMs: number;
  /** End of the last measured sample, epoch ms (0 when none). */
  lastEnd: number;
  /** Measured errors per kind code. */
  errorsByKind: number[];
  /** Warm-up samples in the tick. */
  warmupCount: number;
  /** Warm-up failed samples in the tick. */
  warmupErrors: number;
  /** Threads started so far in this worker. */
  started: number;
  /** Threads finished so far in this worker. */
  finished: number;
  /** JTL records, {@linkcode JTL_STRIDE} numbers each, when asked for. */
  jtl?: Float64Array;
}

/** A worker's last message. */
export interface DoneMessage {
  /** Message type. */
  type: "done";
  /** Worker number. */
  worker: number;
  /** Encoded latency histogram (µs) of measured samples. */
  histogram: string;
  /** Per-thread successful round trips over the whole measured run. */
  fairness: number[];
  /**
   * Per-thread successful round trips between "every thread started" and
   * "first thread finished", when that window held samples.
   */
  fairnessWindow?: number[];
}

/** Sent when a thread with `onError: stopTest` failed. */
export interface StopTestMessage {
  /** Message type. */
  type: "stopTest";
  /** Worker number. */
  worker: number;
}

/** Sent once the worker is loaded and ready for its config. */
export interface ReadyMessage {
  /** Message type. */
  type: "ready";
}

/** Sent on an unexpected failure inside the worker. */
export interface FailMessage {
  /** Message type. */
  type: "fail";
  /** Worker number. */
  worker: number;
  /** What went wrong. */
  message: string;
}

/** Anything a worker posts. */
export type WorkerMessage =
  | TickMessage
  | DoneMessage
  | StopTestMessage
  | ReadyMessage
  | FailMessage;
