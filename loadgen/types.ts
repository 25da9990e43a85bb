/**
 * The load generator's data model: plans in, results out. This file is the
 * contract between the generator, `compare` and the renderers.
 *
 * @module
 */

/** What a thread does after a failed sample (JMeter's "Action to be taken after a Sampler error"). */
export type OnError = "continue" | "stopThread" | "stopTest";

/** A JMeter-style thread-group plan: N threads × L loops of one TCP sample, with ramp-up. */
export interface Plan {
  /** Name shown in reports (`plan1`, the file name, the .jmx test plan name). */
  name: string;
  /** Virtual users; each owns one connection. */
  threads: number;
  /** Samples per thread; -1 loops until `duration` ends. */
  loops: number;
  /** Seconds over which threads start: thread i starts at i·rampUp/threads. */
  rampUp: number;
  /** Text sent as each sample's request (UTF-8). Ignored when `messageSize` is set. */
  message: string;
  /** When set, each request is a generated message of this many bytes ending in `\n`. */
  messageSize?: number;
  /**
   * JMeter compatibility: a read whose last byte is this value ends the response.
   * Unset: strict echo, read exactly the request's length and check the bytes.
   */
  eolByte?: number;
  /** Milliseconds to wait for a connection; 0 waits forever (JMeter's meaning). */
  connectTimeout: number;
  /** Milliseconds to wait for each response; 0 waits forever (JMeter's meaning). */
  responseTimeout: number;
  /** Keep each thread's connection across loops (JMeter's default, true). */
  reuseConnection: boolean;
  /** What a thread does after a failed sample. */
  onError: OnError;
  /**
   * TCP_NODELAY on each connection. Unset: on (echokit's default, fair to
   * every server); a .jmx sets it from `TCPSampler.nodelay`, JMeter's default off.
   */
  noDelay?: boolean;
  /**
   * JMeter scheduler: seconds from the group's start (after `delay`) to the
   * test-wide end time. Every thread stops at that same time, threads that
   * would start after it never start, and `loops` still applies (whichever
   * comes first).
   */
  duration?: number;
  /** Startup delay, seconds, before the first thread starts (JMeter `ThreadGroup.delay`). */
  delay?: number;
  /** The sampler's name, the JTL's `label` (a .jmx sampler's testname). @default {"TCP Sampler"} */
  label?: string;
  /**
   * The thread group's name: JTL thread names are `<threadGroup> 1-<n>` (a
   * .jmx Thread Group's testname). @default {"Thread Group"}
   */
  threadGroup?: string;
  /** Milliseconds each thread waits before each sample (JMeter Constant Timers, summed). */
  timerMs?: number;
  /**
   * How `message` becomes bytes (JMeter's `tcp.charset`): characters outside
   * ISO-8859-1 or US-ASCII are sent as `?`, as Java's `getBytes` does.
   *
   * @default {"UTF-8"}
   */
  charset?: "UTF-8" | "ISO-8859-1" | "US-ASCII";
  /** A random wait added before each sample (JMeter Uniform / Gaussian Random Timer). */
  randomTimer?: RandomTimer;
  /** Throughput pacing before each sample (JMeter Constant / Precise Throughput Timer). */
  throughput?: Throughput;
  /**
   * A Transaction Controller around the sampler: the JTL gets a parent row
   * per sample, labelled with its name, after the sampler's row (or instead of
   * it with `parentSample`). Figures and the summariser count the sampler
   * only, as JMeter's summariser ignores transaction samples.
   */
  transaction?: Transaction;
  /** Target host carried by a .jmx file; flags override it. */
  host?: string;
  /** Target port carried by a .jmx file; flags override it. */
  port?: number;
}

/**
 * The random part of a JMeter Random Timer, added to `timerMs` (its constant
 * offset): uniform in [0, rangeMs) or a normal deviation of rangeMs, the sum
 * taken as an absolute value, as JMeter does. Not seeded (JMeter's
 * `ThreadLocalRandom` is not either).
 */
export interface RandomTimer {
  /** `uniform` (Uniform Random Timer) or `gaussian` (Gaussian Random Timer). */
  distribution: "uniform" | "gaussian";
  /** JMeter's `RandomTimer.range`, ms. */
  rangeMs: number;
}

/**
 * Throughput pacing, a closed-model wait before each sample (JMeter's
 * Constant Throughput Timer and Precise Throughput Timer):
 * - `thread`: each thread at most `perMinute` samples a minute (calcMode 0);
 * - `active`: the whole test at `perMinute`, each thread waiting
 *   activeThreads × 60000 / perMinute ms after its previous target (calcModes
 *   1 and 2: one Thread Group, so "all" and "this group" are the same);
 * - `shared`: one schedule for every thread, a sample each 60000 / perMinute
 *   ms, restarted from now when behind (calcModes 3 and 4);
 * - `precise`: event k of the whole test at group start + k × 60000 /
 *   perMinute ms, never re-based (Precise Throughput Timer, evenly spaced).
 */
export interface Throughput {
  /** Target samples per minute. */
  perMinute: number;
  /** How the target is shared, above. */
  mode: "thread" | "active" | "shared" | "precise";
}

/** A JMeter Transaction Controller around a plan's sampler. */
export interface Transaction {
  /** Its name: the parent row's label. */
  name: string;
  /** "Generate parent sample": write only the parent row, not the sampler's. */
  parentSample?: boolean;
  /** "Include duration of timer…": the parent's elapsed includes `timerMs`. */
  includeTimers?: boolean;
}

/** The kinds of failed sample the generator tells apart (JSON, tables, JTL messages). */
export type ErrorKind = "timeout" | "mismatch" | "eof" | "refused" | "reset" | "connect" | "other";

/** Latency figures; JMeter fields in whole ms, percentiles in microseconds. */
export interface LatencySummary {
  /** Samples measured. */
  count: number;
  /** JMeter `Avg`: truncated integer mean of elapsed ms. */
  avgMs: number;
  /** JMeter `Min` in ms. */
  minMs: number;
  /** JMeter `Max` in ms. */
  maxMs: number;
  /** Mean in µs. */
  meanUs: number;
  /** Median in µs. */
  p50Us: number;
  /** 90th percentile in µs. */
  p90Us: number;
  /** 95th percentile in µs. */
  p95Us: number;
  /** 99th percentile in µs. */
  p99Us: number;
  /** 99.9th percentile in µs. */
  p999Us: number;
  /**
   * Sum of every sample's elapsed ms, JMeter's `Avg` numerator: results from
   * several load hosts merge to the exact `Avg` with it.
   */
  sumElapsedMs?: number;
  /**
   * The whole latency histogram in µs as compressed HdrHistogram base64
   * (`LatencyHistogram.encode()` in `histogram.ts`), so results from several load hosts
   * merge to exact percentiles instead of averaged ones.
   */
  histogram?: string;
}

/** CPU and memory of one process tree over one interval. */
export interface ResourceSample {
  /** End of the interval, epoch ms. */
  time: number;
  /** User+system CPU over the interval, % of one core (200 = two cores busy). */
  cpuPercent: number;
  /** Resident set size of the tree, bytes. */
  rssBytes: number;
  /** Virtual size of the tree, bytes. */
  vszBytes: number;
}

/** Resource use of one side (server or generator) over a whole run. */
export interface ResourceSummary {
  /** Mean CPU over the run, % of one core. */
  cpuPercentMean: number;
  /** CPU time spent per successful sample, µs. */
  cpuUsPerSample: number;
  /** Peak RSS, bytes. */
  peakRssBytes: number;
  /** Peak VSZ, bytes. */
  peakVszBytes: number;
  /** Per-interval series. */
  series: ResourceSample[];
}

/** Round trips done per connection (thread): how evenly the load was served. */
export interface Fairness {
  /** Fewest samples any thread completed. */
  min: number;
  /** 5th percentile. */
  p5: number;
  /** Median. */
  median: number;
  /** 95th percentile. */
  p95: number;
  /** Most samples any thread completed. */
  max: number;
  /**
   * What was counted: `steady` = between "every thread started" and "first
   * thread finished" (loop-bound threads all end with the same total, so only
   * that window shows unevenness); `run` = the whole measured run.
   */
  window?: "steady" | "run";
}

/** One `summary +` interval, as numbers. */
export interface IntervalRecord {
  /** End of the interval, epoch ms. */
  time: number;
  /** Samples in the interval. */
  count: number;
  /** Failed samples in the interval. */
  errors: number;
  /** Interval length in ms (JMeter's rule: to the last sample added). */
  elapsedMs: number;
  /** Samples per second. */
  rate: number;
  /** Truncated mean elapsed ms. */
  avgMs: number;
  /** Threads running samplers at the time of the line. */
  active: number;
  /** Threads started so far. */
  started: number;
  /** Threads finished so far. */
  finished: number;
  /** Server resources over the interval, when sampled. */
  server?: ResourceSample;
  /** Generator resources over the interval. */
  generator?: ResourceSample;
}

/** One segment of a plan: `index` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`) of `count`. */
export interface Segment {
  /** 0-based segment number, below `count`. */
  index: number;
  /** How many segments the plan is split into. */
  count: number;
}

/** What a segment's result records so `compare merge` can check the segments belong together. */
export interface SegmentRecord extends Segment {
  /** Threads of the whole plan (the segment's own count is `plan.threads`). */
  planThreads: number;
  /** {@linkcode planIdentity} of the whole plan and rate: equal for segments of one plan. */
  planHash: string;
  /** The agreed start, epoch ms (`--start-at`); absent without one. */
  startAt?: number;
  /** When this segment actually handed its threads to the engines, epoch ms. */
  startedAt: number;
}

/** Everything one load run measured. */
export interface LoadResult {
  /** The plan as run (after overrides). */
  plan: Plan;
  /** What was loaded. */
  target: { hostname: string; port: number; mode?: string; pid?: number };
  /** Epoch ms when the test started (summariser creation). */
  startTime: number;
  /** Epoch ms when the last sample ended. */
  endTime: number;
  /** Samples completed (successes and errors), warm-up excluded. */
  samples: number;
  /** Failed samples, warm-up excluded. */
  errors: number;
  /** Failed samples by kind. */
  errorsByKind: Partial<Record<ErrorKind, number>>;
  /** JMeter `summary =` rate: samples / elapsed seconds. */
  rate: number;
  /** Latency of all samples. */
  latency: LatencySummary;
  /** Per-connection round trips. */
  fairness: Fairness;
  /** Server process tree resources; absent when it could not be sampled (remote, no /proc). */
  server?: ResourceSummary;
  /** The generator's own resources. */
  generator: ResourceSummary;
  /** The `summary +` intervals. */
  intervals: IntervalRecord[];
  /** Warm-up samples excluded from the figures above. */
  warmup?: { seconds: number; samples: number; errors: number };
  /** Open model: requested and achieved total rate. */
  openModel?: { requestedRate: number; achievedRate: number };
  /** True when the run was stopped early (Ctrl-C, stopTest). */
  interrupted: boolean;
  /** Set when this run was one segment of a plan (`load --segment I/N`). */
  segment?: SegmentRecord;
  /** Each `--threshold`'s outcome, when any were given (`thresholds.ts`). */
  thresholds?: ThresholdOutcome[];
}

/** One threshold's outcome on one result (`loadgen/thresholds.ts`). */
export interface ThresholdOutcome {
  /** The text as given (`p99<5ms`). */
  threshold: string;
  /** The measured value in the metric's base unit (µs, fraction, per second). */
  actual: number;
  /** The measured value as text in the threshold's terms (`3.2ms`, `0.05%`). */
  actualText: string;
  /** Whether the result met it. */
  pass: boolean;
}

/** Default connect timeout, ms: long enough for a thread-per-connection server's start. */
export const DEFAULT_CONNECT_TIMEOUT = 60_000;
/** Default response timeout, ms. */
export const DEFAULT_RESPONSE_TIMEOUT = 60_000;
/** The default request: 64 bytes ending in a newline, so JMeter EOL mode works too. */
export const DEFAULT_MESSAGE: string = "echokit ping " + "x".repeat(50) + "\n";
