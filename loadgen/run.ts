/**
 * `runLoad`: runs one plan against one server and returns everything it
 * measured. Engines run in Workers and report compact per-tick counters; this
 * module feeds them to JMeter's summariser, samples CPU and memory, writes the
 * JTL and assembles the {@linkcode LoadResult}. Rendering is left to callers
 * (`cli/load.ts`, `compare`) through callbacks.
 *
 * @module
 */
import { EchokitError } from "../util/errors.ts";
import { raiseFileLimit } from "../servers/os/socket.ts";
import { type ServerProcess, startServerProcess } from "../servers/child.ts";
import {
  CTRL,
  type DoneMessage,
  type EngineConfig,
  type EngineName,
  ERROR_KINDS,
  type TickMessage,
  type WorkerMessage,
} from "./_engine_types.ts";
import { jtlWarmupPath, JtlWriter } from "./jtl.ts";
import { fairnessOf, newSide, readSide, summarise, writeJtlRows } from "./_run_output.ts";
import { pickEngine, planMessage, probe, PROBE_TIMEOUT_MS } from "./_run_target.ts";
import { THROUGHPUT_UNSET } from "./_timers.ts";
import { histogramFigures, LatencyHistogram, loadLatencyHistogram } from "./histogram.ts";
import { ResourceMonitor, SelfMonitor, usageBetween } from "./resource_monitor.ts";
import { Summariser, type SummarySpan } from "./summariser.ts";
import type { ResourceUsage } from "./summary_line.ts";
import { planIdentity } from "./segment.ts";
import { checkRunOptions, type RunLoadOptions } from "./run_options.ts";
import type { ErrorKind, IntervalRecord, LoadResult } from "./types.ts";

export type { EngineName } from "./_engine_types.ts";
export type { RunLoadOptions } from "./run_options.ts";
export { defaultEngine, planMessage } from "./_run_target.ts";
export { fairnessOf, type LoadProgress } from "./_run_output.ts";

/**
 * Every worker module the generator starts, for `deno compile --include`.
 * Workers are created from these exact `new URL(…, import.meta.url)` literals.
 */
export const LOADGEN_WORKER_MODULES: readonly string[] = ["loadgen/engine_worker.ts"];

/**
 * Engines: `poll` (FFI poll loop, Linux default), `uring` (one io_uring per
 * Worker, Linux) and `async` (portable `Deno.connect`).
 */
export const ENGINES: readonly EngineName[] = ["poll", "uring", "async"];

/**
 * Runs a plan against a server: JMeter thread-group semantics, summary lines
 * as they are due, CPU and memory of server and generator, optional JTL.
 *
 * @param options The plan, the target and how to report.
 * @returns Everything measured. On abort it still resolves, with `interrupted: true`.
 * @throws {EchokitError} When nothing listens at the target or a spawned server fails.
 * @throws {UsageError} On options out of range.
 *
 * @example Usage
 * ```ts ignore
 * import { runLoad } from "./run.ts";
 * import { BUILTIN_PLANS } from "./plans.ts";
 * const result = await runLoad({
 *   plan: { ...BUILTIN_PLANS.plan2, threads: 10, loops: 100 },
 *   spawn: "stream",
 *   onLine: (line) => console.log(line),
 * });
 * console.log(result.latency.p99Us);
 * ```
 */
export async function runLoad(options: RunLoadOptions): Promise<LoadResult> {
  const { plan } = options;
  const { workers, warmupSeconds, threadIndices, threadGroupName } = checkRunOptions(options);
  await loadLatencyHistogram();
  const note = options.onNote ?? (() => {});
  const segment = options.segment;
  const signal = options.signal;

  let server: ServerProcess | undefined;
  let hostname = options.hostname ?? plan.host ?? "127.0.0.1";
  let port = options.port ?? plan.port ?? 7000;
  if (options.spawn) {
    server = await startServerProcess({
      mode: options.spawn,
      args: options.spawnArgs,
      readyTimeout: options.spawnTimeout,
    });
    hostname = server.addr.hostname;
    port = server.addr.port;
    note(`started ${options.spawn} server on ${hostname}:${port} (pid ${server.pid})`);
  }
  const pid = options.pid ?? server?.pid;
  const engine = pickEngine(options.engine, hostname, note);
  // Once for the process, before any engine Worker opens a socket (the limit is per process).
  raiseFileLimit(threadIndices.length + 256);
  const spawned: Worker[] = [];
  let jtl: JtlWriter | undefined;
  let warmupJtl: JtlWriter | undefined;
  const serverMonitor = pid !== undefined ? new ResourceMonitor({ pid }) : undefined;
  try {
    await probe(hostname, port, {
      // Before any load: an answer takes well under the default 10 s, or the plan's shorter limit.
      timeoutMs: plan.connectTimeout > 0
        ? Math.min(plan.connectTimeout, PROBE_TIMEOUT_MS)
        : undefined,
      signal: options.signal,
    });
    if (options.jtl) {
      const jtlOptions = {
        threadGroupName,
        label: plan.label,
        transaction: plan.transaction,
        timerMs: plan.timerMs,
      };
      let path = options.jtl;
      try {
        jtl = await JtlWriter.create(path, jtlOptions);
        path = jtlWarmupPath(options.jtl);
        if (warmupSeconds > 0) warmupJtl = await JtlWriter.create(path, jtlOptions);
      } catch (err) {
        throw new EchokitError(
          `Cannot write JTL file "${path}": ${
            err instanceof Error ? err.message : err
          } (check the folder exists and is writable)`,
        );
      }
    }
    await serverMonitor?.start();
    const self = new SelfMonitor();
    const sides = {
      server: serverMonitor?.available ? newSide(serverMonitor) : undefined,
      generator: newSide(self),
    };

    // Start the workers and wait until each has loaded.
    const ready: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(new URL("./engine_worker.ts", import.meta.url), {
        type: "module",
      });
      spawned.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
            if (e.data.type === "ready") resolve();
          };
          worker.onerror = (e) => {
            e.preventDefault();
            reject(new EchokitError(`Load worker failed to start: ${e.message}`));
          };
        }),
      );
    }
    await Promise.all(ready);

    const control = new SharedArrayBuffer(CTRL.size * 4);
    const ctrl = new Int32Array(control);
    Atomics.store(ctrl, CTRL.throughputLast, THROUGHPUT_UNSET);
    const message = planMessage(plan);
    if (options.startAt !== undefined && options.startAt > Date.now()) {
      note(
        `waiting ${((options.startAt - Date.now()) / 1000).toFixed(1)} s until ${
          new Date(options.startAt).toISOString()
        } (--start-at)`,
      );
      await sleepUntil(options.startAt - 5, signal);
    } else if (options.startAt !== undefined && Date.now() > options.startAt + 10) {
      note(
        `--start-at ${new Date(options.startAt).toISOString()} passed ${
          Date.now() - options.startAt
        } ms before the load was ready: this run starts late (give the generators more lead time)`,
      );
    }
    // With a start time every segment counts its ramp-up from the same instant.
    const startTime = options.startAt !== undefined
      ? Math.max(options.startAt, Date.now() + 2)
      : Date.now() + 10;
    const warmupEnd = startTime + warmupSeconds * 1000;
    const threadCounts = {
      started: new Array(workers).fill(0),
      finished: new Array(workers).fill(0),
    };
    const counts = () => {
      const started = threadCounts.started.reduce((a, b) => a + b, 0);
      const finished = threadCounts.finished.reduce((a, b) => a + b, 0);
      return { active: started - finished, started, finished };
    };

    // Resource spans for the summary lines: `+` covers the time since the
    // previous `+` line, `=` the whole measured run.
    const resources = (span: SummarySpan): ResourceUsage => {
      const out: ResourceUsage = {};
      for (const key of ["server", "generator"] as const) {
        const side = sides[key];
        if (!side?.base) continue;
        const now = readSide(side);
        if (!now) continue;
        const from = span.type === "+" ? side.lastPlus ?? side.base : side.base;
        const usage = usageBetween(from, now);
        if (span.type === "+") side.lastPlus = now;
        out[key] = usage;
      }
      return out;
    };
    let summariser: Summariser | undefined;
    const startSummariser = () => {
      if (summariser) return;
      for (const side of [sides.server, sides.generator]) {
        if (side) side.base = readSide(side);
      }
      summariser = new Summariser({
        startTime: warmupEnd,
        intervalSeconds: options.intervalSeconds ?? 30,
        threadCounts: counts,
        resources,
      });
      if (warmupSeconds > 0) note(`warm-up of ${warmupSeconds} s over; measuring`);
    };
    let warmupTimer: ReturnType<typeof setTimeout> | undefined;
    if (warmupSeconds > 0) {
      warmupTimer = setTimeout(startSummariser, Math.max(0, warmupEnd - Date.now()));
    } else {
      startSummariser();
    }

    const intervals: IntervalRecord[] = [];
    const errorsByKind = new Array(ERROR_KINDS.length).fill(0);
    let measuredSamples = 0;
    let measuredErrors = 0;
    let warmupSamples = 0;
    let warmupErrors = 0;
    let lastEnd = 0;
    let interrupted = false;
    const done: DoneMessage[] = [];
    const finished = Promise.withResolvers<void>();

    const emit = (lines: string[]) => {
      for (const line of lines) options.onLine?.(line);
    };
    const stop = () => {
      // A worker may have raised the stop flag itself (onError: stopTest).
      interrupted = true;
      Atomics.store(ctrl, CTRL.stop, 1);
      Atomics.store(ctrl, CTRL.markEnd, 1);
    };
    const onAbort = () => stop();
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) stop();

    const onTick = (t: TickMessage) => {
      threadCounts.started[t.worker] = t.started;
      threadCounts.finished[t.worker] = t.finished;
      const c = counts();
      if (c.started === threadIndices.length) Atomics.store(ctrl, CTRL.markStart, 1);
      if (c.finished > 0) Atomics.store(ctrl, CTRL.markEnd, 1);
      warmupSamples += t.warmupCount;
      warmupErrors += t.warmupErrors;
      // A row is written by a thread still running, so at least one is active.
      if (t.jtl && jtl) {
        const warmup = warmupJtl && { writer: warmupJtl, end: warmupEnd };
        writeJtlRows(jtl, t.jtl, Math.max(1, c.active), {
          warmup,
          actual: options.jtlTimestamps === "actual",
        });
      }
      if (t.count > 0) {
        measuredSamples += t.count;
        measuredErrors += t.errors;
        for (let k = 0; k < errorsByKind.length; k++) errorsByKind[k] += t.errorsByKind[k];
        if (t.lastEnd > lastEnd) lastEnd = t.lastEnd;
        startSummariser();
        const report = summariser!.add({
          count: t.count,
          errors: t.errors,
          sumElapsedMs: t.sumMs,
          minMs: t.minMs,
          maxMs: t.maxMs,
          lastEndTime: Math.floor(t.lastEnd),
        });
        if (report) {
          if (report.interval) intervals.push(report.interval);
          emit(report.lines);
        }
      }
    };

    let failure: Error | undefined;
    for (const worker of spawned) {
      worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
        const m = e.data;
        switch (m.type) {
          case "tick":
            onTick(m);
            break;
          case "stopTest":
            stop();
            break;
          case "done":
            done.push(m);
            if (done.length === workers) finished.resolve();
            break;
          case "fail":
            failure ??= new EchokitError(`Load worker ${m.worker} failed: ${m.message}`);
            stop();
            done.push({ type: "done", worker: m.worker, histogram: "", fairness: [] });
            if (done.length === workers) finished.resolve();
            break;
        }
      };
      worker.onerror = (e) => {
        e.preventDefault();
        failure ??= new EchokitError(`Load worker failed: ${e.message}`);
        stop();
        finished.resolve();
      };
    }

    // Progress and the 1 s resource series.
    let lastProgressSamples = 0;
    let lastProgressTime = Date.now();
    const expected = plan.loops >= 0 && plan.duration === undefined
      ? threadIndices.length * plan.loops
      : undefined;
    const progressTimer = setInterval(() => {
      const now = Date.now();
      for (const key of ["server", "generator"] as const) {
        const side = sides[key];
        if (!side) continue;
        const prev = side.last;
        const r = readSide(side);
        if (r && prev) side.series.push(usageBetween(prev, r));
      }
      if (options.onProgress) {
        const total = measuredSamples + warmupSamples;
        options.onProgress({
          elapsedMs: now - startTime,
          samples: total,
          errors: measuredErrors + warmupErrors,
          rate: (total - lastProgressSamples) / Math.max(1e-3, (now - lastProgressTime) / 1000),
          ...counts(),
          threads: threadIndices.length,
          expected,
          warmup: now < warmupEnd,
        });
        lastProgressSamples = total;
        lastProgressTime = now;
      }
    }, 250);
    for (const side of [sides.server, sides.generator]) if (side) readSide(side);

    // Threads are dealt round-robin so each worker ramps up at the same pace.
    for (let w = 0; w < workers; w++) {
      const indices = threadIndices.filter((_, i) => i % workers === w);
      const config: EngineConfig = {
        engine,
        worker: w,
        hostname,
        port,
        threads: plan.threads,
        indices,
        loops: plan.loops,
        rampUpMs: plan.rampUp * 1000,
        delayMs: (plan.delay ?? 0) * 1000,
        timerMs: plan.timerMs ?? 0,
        randomTimer: plan.randomTimer,
        throughput: plan.throughput,
        noDelay: plan.noDelay ?? true,
        durationMs: plan.duration === undefined ? undefined : plan.duration * 1000,
        connectTimeout: plan.connectTimeout,
        responseTimeout: plan.responseTimeout,
        reuseConnection: plan.reuseConnection,
        onError: plan.onError,
        eolByte: plan.eolByte,
        message,
        startTime,
        warmupEnd,
        rate: options.rate,
        jtl: jtl !== undefined,
        tickMs: 100,
        control,
      };
      spawned[w].postMessage(config);
    }
    const startedAt = Date.now();

    try {
      await finished.promise;
    } finally {
      clearInterval(progressTimer);
      clearTimeout(warmupTimer);
      signal?.removeEventListener("abort", onAbort);
    }
    if (failure) throw failure;

    startSummariser();
    // The test ends with its last sample (not when the workers have wound
    // down), so the `summary =` line and the result agree on the elapsed time.
    const endNow = lastEnd > 0 ? Math.max(Math.floor(lastEnd), summariser!.startTime) : Date.now();
    const final = summariser!.end(endNow);
    if (final.interval) intervals.push(final.interval);
    emit(final.lines);

    const histogram = new LatencyHistogram();
    // Use the steady window only when every worker saw one, so counts compare.
    const windowed = done.every((d) => d.fairnessWindow !== undefined);
    const perThread: number[] = [];
    for (const d of done) {
      if (d.histogram) histogram.merge(LatencyHistogram.decode(d.histogram));
      perThread.push(...(windowed ? d.fairnessWindow! : d.fairness));
    }
    const byKind: Partial<Record<ErrorKind, number>> = {};
    ERROR_KINDS.forEach((k, i) => {
      if (errorsByKind[i] > 0) byKind[k] = errorsByKind[i];
    });
    const total = final.total;
    const generator = summarise(sides.generator, measuredSamples)!;
    const serverSummary = sides.server ? summarise(sides.server, measuredSamples) : undefined;
    await jtl?.close();
    jtl = undefined;
    await warmupJtl?.close();
    warmupJtl = undefined;

    const result: LoadResult = {
      plan: segment ? { ...plan, threads: threadIndices.length } : plan,
      target: { hostname, port, mode: options.spawn, pid },
      startTime: warmupEnd,
      endTime: endNow,
      samples: measuredSamples,
      errors: measuredErrors,
      errorsByKind: byKind,
      rate: total.rate,
      latency: {
        count: measuredSamples,
        avgMs: total.avgMs,
        minMs: total.minMs,
        maxMs: total.maxMs,
        ...histogramFigures(histogram),
        sumElapsedMs: total.sumElapsedMs,
      },
      fairness: { ...fairnessOf(perThread), window: windowed ? "steady" : "run" },
      generator,
      intervals,
      interrupted,
    };
    if (serverSummary) result.server = serverSummary;
    if (warmupSeconds > 0) {
      result.warmup = { seconds: warmupSeconds, samples: warmupSamples, errors: warmupErrors };
    }
    if (segment) {
      result.segment = {
        ...segment,
        planThreads: plan.threads,
        planHash: planIdentity(plan, options.rate),
        startAt: options.startAt,
        startedAt,
      };
    }
    if (options.rate !== undefined) {
      const seconds = (result.endTime - result.startTime) / 1000;
      result.openModel = {
        // A segment's threads send their share of the whole plan's rate.
        requestedRate: options.rate * threadIndices.length / plan.threads,
        achievedRate: seconds > 0 ? measuredSamples / seconds : 0,
      };
    }
    return result;
  } finally {
    for (const w of spawned) w.terminate();
    serverMonitor?.close();
    await jtl?.close();
    await warmupJtl?.close();
    if (server) await server.stop();
  }
}

/** Resolves at `at` (epoch ms), or at once when `signal` aborts. */
function sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, at - Date.now()));
    signal?.addEventListener("abort", done);
  });
}
