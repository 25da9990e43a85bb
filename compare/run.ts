/**
 * The comparison runner: for each repetition, scenario and server, start the
 * server as its own child process, run the plan against it with the load
 * generator (sampling that server's process tree), stop it, keep the result.
 * Runs are interleaved across servers and rotated per repetition, so slow
 * drift of a noisy machine spreads over every column instead of one.
 *
 * @module
 */
import { formatPrespawn, parseStatsLine } from "../servers/stats_line.ts";
import { EchokitError } from "../util/errors.ts";
import { type EngineName, runLoad } from "../loadgen/run.ts";
import type { LoadResult, Plan } from "../loadgen/types.ts";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";
import type { Mode, ServerEngine } from "../servers/types.ts";
import { aggregate } from "./aggregate.ts";
import { localPortRange } from "./_limits.ts";
import { raiseFileLimit } from "../servers/os/socket.ts";
import { guardThreads, readMemAvailable, readMemTotal } from "./memory_guard.ts";
import { missingRuntime, type PeerSpec } from "./peers.ts";
import { buildScenarios, type PlannedScenario } from "./scenarios.ts";
import { DEFAULT_COMPARE_MODES, modeColumns } from "./variants.ts";
import type { CompareMeta, CompareReport, RunRecord, Scenario, ServerColumn } from "./types.ts";

/**
 * Time allowed per prespawned `blocking` thread on top of the ready timeout,
 * ms: 60–160 ms measured per thread (2-core x86_64, busy), with room.
 */
const PRESPAWN_MS_PER_THREAD = 250;

/** What the runner hands the load generator for one run. */
export interface RunPlanInput {
  /** The plan to run. */
  plan: Plan;
  /** Server host. */
  hostname: string;
  /** Server port. */
  port: number;
  /** Server process whose tree is sampled for CPU and memory. */
  pid: number;
  /** Open model: total samples per second. */
  rate?: number;
  /** Stops the run early (Ctrl-C). */
  signal?: AbortSignal;
}

/** Runs one plan against one server: `runLoad` in real use, injectable for tests. */
export type RunPlan = (input: RunPlanInput) => Promise<LoadResult>;

/** Progress of a comparison, for a live display. */
export type CompareProgress =
  | {
    /** A run is about to start. */
    type: "run-start";
    /** 1-based run number. */
    index: number;
    /** Runs in total. */
    total: number;
    /** Server column. */
    server: string;
    /** The scenario. */
    scenario: Scenario;
    /** Repetition, from 0. */
    repeat: number;
    /** Since the comparison started, ms. */
    elapsedMs: number;
    /** Estimated time left, ms (after the first run). */
    etaMs?: number;
  }
  | {
    /** A run finished or was skipped. */
    type: "run-end";
    /** 1-based run number. */
    index: number;
    /** Runs in total. */
    total: number;
    /** What it recorded. */
    record: RunRecord;
    /** Since the comparison started, ms. */
    elapsedMs: number;
  }
  | {
    /** Something the user should know now (a skip, a cap, a limit). */
    type: "warning";
    /** One sentence. */
    message: string;
  };

/** Options for {@linkcode runCompare}. */
export interface CompareOptions {
  /** Plans to run (already scaled). */
  plans: readonly Plan[];
  /** Our server modes. @default {all four} */
  modes?: readonly Mode[];
  /** External servers, as extra columns. @default {[]} */
  peers?: readonly PeerSpec[];
  /** Runs per cell. @default {1} */
  repeat?: number;
  /** Connection levels to sweep (each replaces the plans' threads). */
  connections?: readonly number[];
  /** Open-model rate levels, samples/s. */
  rates?: readonly number[];
  /** Server whose rate is 1.00× in the ratio column. @default {the fastest per scenario} */
  baseline?: string;
  /** Scale the plans were built with, for the header. @default {1} */
  scale?: number;
  /** Runs a plan against a server. @default {runLoad} */
  runPlan?: RunPlan;
  /** The load generator's engine (`runLoad`'s). @default {its auto choice} */
  engine?: EngineName;
  /** Extra `serve` flags for every mode. */
  serverArgs?: readonly string[];
  /** `--work` values: every row runs once per work. @default {none: bare echo} */
  works?: readonly string[];
  /** `--offload` pools (or `none`): one column per mode and pool. @default {["none"]} */
  offloads?: readonly string[];
  /** Server process counts: one column per mode and count. @default {[1]} */
  processes?: readonly number[];
  /**
   * `stream`/`protocol` engines: `deno` adds a `stream-deno` column, `node` a
   * `protocol-node` column. @default {["loop"]}
   */
  engines?: readonly ServerEngine[];
  /** How long a server may take to serve, ms. @default {60000} */
  readyTimeout?: number;
  /** Reads available memory, bytes, before each `blocking` run. @default {readMemAvailable} */
  memAvailable?: () => number | undefined;
  /** Memory per `blocking` thread, bytes. @default {BLOCKING_THREAD_BYTES} */
  perThreadBytes?: number;
  /** When `blocking` would not fit: run with fewer threads, or skip. @default {"cap"} */
  memoryPolicy?: "cap" | "skip";
  /** Stops after the current run; the report covers what ran. */
  signal?: AbortSignal;
  /** Receives progress and warnings. */
  onProgress?: (event: CompareProgress) => void;
  /** The command line, for the report header. */
  command?: string;
  /** Extra header notes. */
  notes?: readonly string[];
}

/**
 * Runs every server against every scenario and aggregates the results.
 * A server that cannot start (a mode not built, a missing runtime, the
 * memory guard) becomes a skipped cell with the reason; it never aborts the
 * comparison.
 *
 * @param options Plans, servers, repetitions, sweeps.
 * @returns The report every renderer reads.
 * @throws {EchokitError} When there is nothing to run.
 *
 * @example Usage
 * ```ts ignore
 * import { runCompare } from "./run.ts";
 * import { BUILTIN_PLANS } from "../loadgen/plans.ts";
 * import { scalePlan } from "../loadgen/plan.ts";
 * const report = await runCompare({
 *   plans: [scalePlan(BUILTIN_PLANS.plan2, 0.01)],
 *   modes: ["stream", "protocol"],
 * });
 * console.log(report.cells.map((c) => `${c.server} ${c.rate?.median}`));
 * ```
 */
export async function runCompare(options: CompareOptions): Promise<CompareReport> {
  const startedAt = Date.now();
  const repeat = options.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new EchokitError(`Invalid repeat "${repeat}" (use a whole number of at least 1)`);
  }
  const runPlan: RunPlan = options.runPlan ?? ((input) => defaultRunPlan(input, options.engine));
  const emit = options.onProgress ?? (() => {});
  const warn = (message: string) => emit({ type: "warning", message });
  const notes = [...(options.notes ?? [])];

  const variants = modeColumns(options.modes ?? DEFAULT_COMPARE_MODES, {
    offloads: options.offloads,
    processes: options.processes,
    engines: options.engines,
  });
  for (const why of variants.left) notes.push(`${why}; column left out`);
  if (options.works?.length && options.peers?.length) {
    notes.push("peers do no --work: their cells in every work row are a bare echo");
  }
  const servers: ServerColumn[] = [
    ...variants.columns,
    ...(options.peers ?? []).map((p): ServerColumn => ({
      name: p.name,
      kind: "peer",
      command: p.command,
    })),
  ];
  if (servers.length === 0) throw new EchokitError("Nothing to compare (give a mode or a --peer)");
  const scenarios = buildScenarios(options.plans, {
    connections: options.connections,
    rates: options.rates,
    works: options.works,
  });
  if (scenarios.length === 0) throw new EchokitError("Nothing to compare (give a plan)");

  // Reasons a server cannot run at all (missing runtime, failed start): found once, reused.
  const unavailable = new Map<string, string>();
  for (const peer of options.peers ?? []) {
    const why = missingRuntime(peer);
    if (why) {
      unavailable.set(peer.name, `${why}; peer skipped`);
      warn(`peer ${peer.name}: ${why}; skipped`);
    }
  }
  // Reasons a scenario cannot run on this machine (open files, port range).
  const blocked = checkLimits(scenarios, notes, warn);

  const total = repeat * scenarios.length * servers.length;
  const runs: RunRecord[] = [];
  let index = 0;
  let measuredMs = 0;
  let measured = 0;
  outer: for (let rep = 0; rep < repeat; rep++) {
    for (const scenario of scenarios) {
      // Rotate the server order each repetition: no column always runs first or last.
      const order = servers.map((_, i) => servers[(i + rep) % servers.length]);
      for (const server of order) {
        if (options.signal?.aborted) break outer;
        index++;
        const elapsedMs = Date.now() - startedAt;
        const etaMs = measured > 0 ? (measuredMs / measured) * (total - index + 1) : undefined;
        emit({
          type: "run-start",
          index,
          total,
          server: server.name,
          scenario,
          repeat: rep,
          elapsedMs,
          etaMs,
        });
        const skip = unavailable.get(server.name) ?? blocked.get(scenario.id);
        const record = skip !== undefined
          ? { server: server.name, scenario: scenario.id, repeat: rep, skipped: skip, wallMs: 0 }
          : await runOne(server, scenario, rep, runPlan, options, unavailable, warn);
        runs.push(record);
        if (record.result) {
          measuredMs += record.wallMs;
          measured++;
        }
        emit({ type: "run-end", index, total, record, elapsedMs: Date.now() - startedAt });
      }
    }
  }
  if (options.signal?.aborted) notes.push(`interrupted after ${runs.length} of ${total} runs`);

  const cells = aggregate(runs, { scenarios, servers }, { baseline: options.baseline });
  return {
    meta: {
      tool: "echokit compare",
      scale: options.scale ?? 1,
      repeat,
      baseline: options.baseline,
      startedAt,
      durationMs: Date.now() - startedAt,
      ...machineFacts(),
      command: options.command,
      notes,
    },
    scenarios: scenarios.map(({ runPlan: _p, serveArgs: _a, ...s }) => s),
    servers,
    cells,
    runs,
  };
}

/** The facts about this machine every report's header shows. */
export type MachineFacts = Pick<CompareMeta, "cpus" | "memTotalBytes" | "platform" | "deno">;

/**
 * CPUs, memory, OS and Deno version of the machine running this code, for a
 * report's header.
 *
 * @returns The facts.
 *
 * @example Usage
 * ```ts
 * import { machineFacts } from "./run.ts";
 * console.log(machineFacts().cpus > 0); // true
 * ```
 */
export function machineFacts(): MachineFacts {
  return {
    cpus: navigator.hardwareConcurrency,
    memTotalBytes: readMemTotal(),
    platform: `${Deno.build.os} ${Deno.build.arch}`,
    deno: Deno.version.deno,
  };
}

function defaultRunPlan(input: RunPlanInput, engine?: EngineName): Promise<LoadResult> {
  return runLoad({
    engine,
    plan: input.plan,
    hostname: input.hostname,
    port: input.port,
    pid: input.pid,
    rate: input.rate,
    signal: input.signal,
  });
}

async function runOne(
  server: ServerColumn,
  scenario: PlannedScenario,
  repeat: number,
  runPlan: RunPlan,
  options: CompareOptions,
  unavailable: Map<string, string>,
  warn: (message: string) => void,
): Promise<RunRecord> {
  const began = Date.now();
  const record: RunRecord = { server: server.name, scenario: scenario.id, repeat, wallMs: 0 };
  const args = [
    ...(options.serverArgs ?? []),
    ...(server.kind === "mode" ? [...(server.args ?? []), ...(scenario.serveArgs ?? [])] : []),
  ];
  let threads = 0;
  if ((server.mode ?? server.name) === "blocking" && server.kind === "mode") {
    const decision = guardThreads({
      connections: scenario.connections,
      // Thread per connection is the model: let it start one for each, memory permitting.
      maxThreads: scenario.connections,
      memAvailableBytes: (options.memAvailable ?? readMemAvailable)(),
      perThreadBytes: options.perThreadBytes,
      policy: options.memoryPolicy,
    });
    if (decision.action === "skip") {
      warn(`blocking · ${scenario.label}: ${decision.message}`);
      return { ...record, skipped: decision.message };
    }
    if (decision.action === "cap") {
      warn(`blocking · ${scenario.label}: ${decision.message}`);
      record.note = decision.message;
    }
    // Every thread starts before the server listens, so before the load's
    // clock starts: the start-up is reported apart (record.prespawn), and the
    // plan's ramp-up meets threads that are already waiting in accept.
    args.push("--max-threads", String(decision.threads), "--prespawn", String(decision.threads));
    threads = decision.threads;
  }

  let child: ServerProcess;
  try {
    child = await startServerProcess(
      server.kind === "peer"
        ? { command: server.command, name: server.name, readyTimeout: options.readyTimeout }
        : {
          mode: server.mode ?? server.name as Mode,
          name: server.name,
          args,
          readyTimeout: (options.readyTimeout ?? 60_000) + threads * PRESPAWN_MS_PER_THREAD,
        },
    );
  } catch (err) {
    if (!(err instanceof EchokitError)) throw err;
    const reason = startFailure(err.message);
    // A server that cannot start once will not start next time either: skip its other runs.
    unavailable.set(server.name, reason);
    warn(`${server.name}: ${reason}; skipped`);
    return { ...record, skipped: reason, wallMs: Date.now() - began };
  }

  let exitedEarly = false;
  child.exited.then(() => exitedEarly = true);
  try {
    record.result = await runPlan({
      plan: scenario.runPlan,
      hostname: child.addr.hostname,
      port: child.addr.port,
      pid: child.pid,
      rate: scenario.rate,
      signal: options.signal,
    });
    if (exitedEarly) {
      record.note = [record.note, "the server exited during the run"].filter(Boolean).join("; ");
    }
    const connectErrors = (record.result.errorsByKind.connect ?? 0) +
      (record.result.errorsByKind.refused ?? 0);
    if (connectErrors > 0) {
      const note = `${connectErrors} connect errors (open-file limit, EMFILE, or the port range)`;
      record.note = [record.note, note].filter(Boolean).join("; ");
    }
  } catch (err) {
    if (!(err instanceof EchokitError)) throw err;
    record.skipped = `load failed: ${err.message}`;
    warn(`${server.name} · ${scenario.label}: ${record.skipped}`);
  } finally {
    await child.stop();
  }
  const stats = parseStatsLine(child.stdout());
  if (stats?.syscalls !== undefined) record.syscalls = stats.syscalls;
  const prespawn = stats ? formatPrespawn(stats) : undefined;
  if (stats?.prespawned && prespawn) {
    record.prespawn = {
      threads: stats.prespawned,
      ms: stats.prespawnMs ?? 0,
      bytes: stats.prespawnBytes ?? 0,
    };
    record.note = [record.note, `${prespawn}, before the load`].filter(Boolean).join("; ");
  }
  record.wallMs = Date.now() - began;
  return record;
}

/** The one line of a start failure worth a table note: the server's own error. */
function startFailure(message: string): string {
  const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
  const own = lines.findLast((l) => l.startsWith("error:"));
  return own ? own.replace(/^error:\s*/, "") : lines[0];
}

function checkLimits(
  scenarios: readonly PlannedScenario[],
  notes: string[],
  warn: (message: string) => void,
): Map<string, string> {
  const blocked = new Map<string, string>();
  const most = Math.max(...scenarios.map((s) => s.connections));
  if (most <= 512) return blocked;
  const limit = raiseFileLimit();
  if (limit) notes.push(`open-file limit ${limit.soft} (hard ${limit.hard})`);
  const range = localPortRange();
  for (const s of scenarios) {
    // Each side holds one socket per connection plus its own files; 256 covers those.
    const needed = s.connections + 256;
    let why: string | undefined;
    if (limit && needed > limit.soft) {
      why = `needs about ${needed} open files, the limit is ${limit.soft} ` +
        `(raise it with "ulimit -n ${needed}" or run as root)`;
    } else if (range && s.connections > range[1] - range[0] + 1) {
      why = `${s.connections} connections from one address to one port exceed the local port ` +
        `range ${range[0]}–${range[1]} (${range[1] - range[0] + 1} ports)`;
    }
    if (why) {
      blocked.set(s.id, why);
      warn(`${s.label}: ${why}; skipped`);
    }
  }
  return blocked;
}
