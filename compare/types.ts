/**
 * The data model of a comparison: what was asked (scenarios, servers), what
 * each run measured, and the aggregated cells every renderer reads.
 *
 * @module
 */
import type { LoadResult, ThresholdOutcome } from "../loadgen/types.ts";
import type { Mode } from "../servers/types.ts";

/** One load condition: a plan, possibly at a swept connection count or open-model rate. */
export interface Scenario {
  /** Stable id (`plan1`, `plan2@c100`, `plan2@r5000`). */
  id: string;
  /** The plan's name. */
  plan: string;
  /** Connections (the plan's threads). */
  connections: number;
  /** Samples per connection (the plan's loops). */
  loops: number;
  /** Open model: requested total samples per second. */
  rate?: number;
  /** `--work` every server does per message in this row (`sleep:10ms`). */
  work?: string;
  /** What tables show in the row header (`plan1`, `plan2 · 100 conns`, `plan2 · 5000/s`). */
  label: string;
}

/** A server column: one of our modes or an external peer. */
export interface ServerColumn {
  /** Column name (`stream`, `py-streams`). */
  name: string;
  /** Our mode or an external command. */
  kind: "mode" | "peer";
  /** The peer's argv (with `{port}`), for peers. */
  command?: string[];
  /** Our mode, when the column is a variant of it (`stream+threads`). @default {the name} */
  mode?: Mode;
  /** Extra `serve` flags of this column (`--offload threads`, `--processes 2`). */
  args?: string[];
}

/** One run: a server × a scenario × one repetition. */
export interface RunRecord {
  /** Server column name. */
  server: string;
  /** Scenario id. */
  scenario: string;
  /** Repetition index, from 0. */
  repeat: number;
  /** What the load generator measured; absent when the run was skipped. */
  result?: LoadResult;
  /** Syscalls the server reported in its final stats line (FFI modes). */
  syscalls?: number;
  /**
   * `blocking` threads started before the load, apart from the measurement:
   * how many, the wall time and the RSS they took.
   */
  prespawn?: { threads: number; ms: number; bytes: number };
  /** Why the run did not happen (server would not start, memory guard, limits). */
  skipped?: string;
  /** Something the reader must know about this run (threads capped by the memory guard). */
  note?: string;
  /** Wall time of the whole run including server start and stop, ms. */
  wallMs: number;
}

/** A median with its spread over repetitions. */
export interface Stat {
  /** Median over the runs (mean of the middle two for an even count). */
  median: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Runs the figure is taken over. */
  n: number;
}

/** JMeter `summary =` figures of the median-rate run, so the line stays self-consistent. */
export interface HeadlineFigures {
  /** Samples. */
  count: number;
  /** Test elapsed, ms. */
  elapsedMs: number;
  /** Samples per second. */
  rate: number;
  /** JMeter Avg, ms (truncated). */
  avgMs: number;
  /** JMeter Min, ms. */
  minMs: number;
  /** JMeter Max, ms. */
  maxMs: number;
  /** Failed samples. */
  errors: number;
}

/** One server × scenario, aggregated over repetitions. */
export interface Cell {
  /** Server column name. */
  server: string;
  /** Scenario id. */
  scenario: string;
  /** Runs that produced results. */
  runs: number;
  /** Set when no run produced results: the reason. */
  skipped?: string;
  /** Notes from the runs, deduplicated. */
  notes: string[];
  /** The median-rate run's JMeter figures. */
  headline?: HeadlineFigures;
  /** Samples per second. */
  rate?: Stat;
  /** Rate divided by the reference's rate (fastest, or `--baseline`). */
  ratio?: number;
  /** Median latency, µs. */
  p50Us?: Stat;
  /** 99th percentile latency, µs. */
  p99Us?: Stat;
  /** Failed samples as % of all. */
  errorPercent?: Stat;
  /** Server CPU, % of one core. */
  cpuPercent?: Stat;
  /** Server CPU time per message, µs. */
  cpuUsPerMessage?: Stat;
  /**
   * The load generator's own CPU, % of one core: near 100 (one engine Worker
   * per core), the cell measures the generator rather than the server.
   */
  loadCpuPercent?: Stat;
  /** Peak server RSS, bytes. */
  peakRssBytes?: Stat;
  /** Peak server VSZ, bytes. */
  peakVszBytes?: Stat;
  /** Per-connection round trips, 5th percentile. */
  fairnessP5?: Stat;
  /** Per-connection round trips, 95th percentile. */
  fairnessP95?: Stat;
  /** Server syscalls per message, where the server counts them. */
  syscallsPerMessage?: Stat;
}

/** Facts about the machine and the settings, printed in every report's header. */
export interface CompareMeta {
  /** echokit's tool name and what ran. */
  tool: string;
  /** Loop scale applied to the plans (1 with `--full`). */
  scale: number;
  /** Repetitions per cell. */
  repeat: number;
  /** Reference column for ratios; absent = fastest per scenario. */
  baseline?: string;
  /** Epoch ms when the comparison started. */
  startedAt: number;
  /** Wall time of the whole comparison, ms. */
  durationMs: number;
  /** Logical CPUs. */
  cpus: number;
  /** Total memory, bytes (0 when unknown). */
  memTotalBytes: number;
  /** OS and architecture. */
  platform: string;
  /** Deno version. */
  deno: string;
  /** The command line that produced it, when run from the CLI. */
  command?: string;
  /** Header notes (sweep sizing, limits raised, peers skipped). */
  notes: string[];
}

/** Single-connection round-trip latency of one server, from tinybench. */
export interface MicroResult {
  /** Server column name. */
  server: string;
  /** Mean round trip, µs. */
  meanUs?: number;
  /** 99th percentile round trip, µs. */
  p99Us?: number;
  /** Round trips per second. */
  opsPerSecond?: number;
  /** Relative margin of error of the mean, %. */
  rmePercent?: number;
  /** Round trips measured. */
  samples?: number;
  /** Why it was not measured. */
  skipped?: string;
}

/** A finished comparison: everything the renderers need. */
export interface CompareReport {
  /** Settings and machine. */
  meta: CompareMeta;
  /** Rows, in order. */
  scenarios: Scenario[];
  /** Columns, in order. */
  servers: ServerColumn[];
  /** One per scenario × server. */
  cells: Cell[];
  /** Every run, in the order run. */
  runs: RunRecord[];
  /** `--micro` results. */
  micro?: MicroResult[];
  /** `--threshold` outcomes per run (`compare/thresholds.ts`), when any were given. */
  thresholds?: RunThresholds[];
}

/** One run's threshold outcomes, named by its cell. */
export interface RunThresholds {
  /** Server column name. */
  server: string;
  /** Scenario id. */
  scenario: string;
  /** Scenario label, as the tables show it. */
  label: string;
  /** Repetition index, from 0. */
  repeat: number;
  /** One outcome per threshold, in order. */
  outcomes: ThresholdOutcome[];
}

/** One load host's result and where it came from. */
export interface LoadInput {
  /** Column name: the file's base name without `.json` (`hostA`). */
  label: string;
  /** The file it was read from, for messages. */
  source: string;
  /** What the host measured. */
  result: LoadResult;
}

/** How the inputs fit together as segments of one plan (`load --segment I/N`). */
export interface SegmentCheck {
  /** N: the segments the plan was split into. */
  count: number;
  /** The segment numbers given, ascending, each once. */
  present: number[];
  /** Segment numbers not given. */
  missing: number[];
  /** Segment numbers given more than once. */
  duplicated: number[];
  /**
   * How far apart the segments handed their threads to the engines, ms
   * (latest `startedAt` − earliest): the start spread.
   */
  startSpreadMs: number;
}
