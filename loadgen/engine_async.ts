/**
 * The portable engine: one async function per virtual user over
 * `Deno.connect`, `write` and `read`. It runs anywhere Deno runs, but one event
 * loop driving many connections this way is slower than the poll-loop engine
 * and serves connections unevenly; it is the fallback (`--engine async`).
 *
 * @module
 */
import { connectWithin } from "./_connect.ts";
import { type EngineConfig, KIND } from "./_engine_types.ts";
import { nowMs, type SampleStats } from "./_sample_stats.ts";
import { groupEndAt, threadRuns, threadStartAt } from "./_schedule.ts";
import { SampleTimers } from "./_timers.ts";

/** Hooks an engine calls while running. */
export interface EngineHooks {
  /** Where samples go. */
  stats: SampleStats;
  /** Posts the counters gathered since the previous call. */
  tick(): void;
  /** Called when a thread failed with `onError: stopTest`. */
  stopTest(): void;
}

interface User {
  local: number;
  thread: number;
  startAt: number;
  conn: Deno.TcpConn | undefined;
  /** Epoch ms after which the current step times out (0: none). */
  deadline: number;
  timedOut: boolean;
  /** Dropped at stop after the grace period: its sample is not recorded. */
  abandoned: boolean;
  buf: Uint8Array;
}

/** How long samples in flight may take to finish after a stop, ms. */
export const STOP_GRACE_MS = 2000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function classify(err: unknown, user: User, connecting: boolean): number {
  if (user.timedOut) return KIND.timeout;
  if (err instanceof Deno.errors.ConnectionRefused) return KIND.refused;
  if (
    err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.ConnectionAborted
  ) return KIND.reset;
  if (err instanceof Deno.errors.TimedOut) return KIND.timeout;
  return connecting ? KIND.connect : KIND.other;
}

/**
 * Runs this worker's share of the thread group with async I/O.
 *
 * @param config What to run.
 * @param hooks Where samples and ticks go.
 * @returns When every thread has finished or the run was stopped.
 */
export async function runAsyncEngine(config: EngineConfig, hooks: EngineHooks): Promise<void> {
  const { stats } = hooks;
  const msg = config.message;
  const strict = config.eolByte === undefined;
  const eol = config.eolByte === undefined ? -1 : config.eolByte & 0xff;
  const users: User[] = config.indices.map((thread, local) => ({
    local,
    thread,
    startAt: threadStartAt(config, thread),
    conn: undefined,
    deadline: 0,
    timedOut: false,
    abandoned: false,
    buf: new Uint8Array(strict ? msg.length : 4096),
  }));
  // Open model: each thread sends on its own fixed schedule; the plan's total
  // rate is shared evenly by its threads.
  const gapMs = config.rate ? config.threads / config.rate * 1000 : 0;

  // One watchdog for every deadline, instead of a timer per sample.
  // On stop, samples in flight get this long to finish before they are dropped.
  let dropAt = 0;
  const watchdog = setInterval(() => {
    const now = nowMs();
    if (stats.stopping) {
      if (dropAt === 0) dropAt = now + STOP_GRACE_MS;
      else if (now > dropAt) {
        for (const u of users) {
          if (u.conn === undefined) continue;
          u.abandoned = true;
          try {
            u.conn.close();
          } catch {
            // Already closed.
          }
        }
      }
    }
    for (const u of users) {
      if (u.deadline !== 0 && now > u.deadline && !u.timedOut) {
        u.timedOut = true;
        try {
          u.conn?.close();
        } catch {
          // Already closed.
        }
      }
    }
    stats.checkMarks();
  }, 10);
  const ticker = setInterval(() => hooks.tick(), config.tickMs);

  const closeConn = (u: User) => {
    if (u.conn !== undefined) {
      try {
        u.conn.close();
      } catch {
        // Already closed (timeout watchdog).
      }
      u.conn = undefined;
    }
  };

  const connect = async (u: User): Promise<Deno.TcpConn> => {
    const conn = await connectWithin(config.hostname, config.port, {
      timeoutMs: config.connectTimeout,
    });
    if (typeof conn !== "string") return conn;
    u.timedOut = true;
    throw new Deno.errors.TimedOut("connect timed out");
  };

  // The group's end time, the same for every thread (see _schedule.ts).
  const endAt = groupEndAt(config);
  const timers = new SampleTimers(config);

  async function runUser(u: User): Promise<void> {
    // A thread whose start falls at or after the end time never starts.
    if (!threadRuns(u.startAt, endAt)) return;
    const wait = u.startAt - nowMs();
    if (wait > 0) {
      // Sleep in short steps so a stop during a long ramp-up is seen quickly.
      while (!stats.stopping && u.startAt - nowMs() > 0 && nowMs() < endAt) {
        await sleep(Math.min(250, Math.max(1, u.startAt - nowMs())));
      }
    }
    if (stats.stopping) return;
    stats.started++;
    let intended = nowMs();
    try {
      for (let loop = 0; config.loops < 0 || loop < config.loops; loop++) {
        if (stats.stopping || nowMs() >= endAt) break;
        let waitMs = 0;
        if (timers.any) {
          waitMs = timers.delayMs(u.local, nowMs());
          // JMeter 5.x caps a timer's sleep at the end time and starts no sample after it.
          if (nowMs() + waitMs >= endAt) break;
          if (waitMs > 0) await sleep(waitMs);
          if (stats.stopping) break;
        }
        if (gapMs > 0) {
          // A paced sample due at or after the end time would start too late.
          if (intended >= endAt) break;
          const ahead = intended - nowMs();
          if (ahead > 0) await sleep(ahead);
          if (stats.stopping) break;
        }
        const start = nowMs();
        const sampleStart = gapMs > 0 ? Math.min(intended, start) : start;
        intended += gapMs;
        let connectMs = 0;
        let firstByte = 0;
        let got = 0;
        let kind = -1;
        let connecting = false;
        u.timedOut = false;
        try {
          if (u.conn === undefined) {
            connecting = true;
            u.deadline = 0;
            u.conn = await connect(u);
            u.conn.setNoDelay(config.noDelay ?? true);
            connectMs = nowMs() - start;
            connecting = false;
          }
          const conn = u.conn;
          u.deadline = config.responseTimeout > 0 ? nowMs() + config.responseTimeout : 0;
          let off = 0;
          while (off < msg.length) off += await conn.write(msg.subarray(off));
          const buf = u.buf;
          if (strict) {
            while (got < msg.length) {
              const n = await conn.read(buf.subarray(got));
              if (n === null) break;
              if (got === 0) firstByte = nowMs();
              got += n;
            }
            if (got < msg.length) kind = u.timedOut ? KIND.timeout : KIND.eof;
            else {
              for (let i = 0; i < msg.length; i++) {
                if (buf[i] !== msg[i]) {
                  kind = KIND.mismatch;
                  break;
                }
              }
            }
          } else {
            // JMeter's rule: stop when the last byte of a read is the EOL byte.
            while (true) {
              const n = await conn.read(buf);
              if (n === null) {
                kind = u.timedOut ? KIND.timeout : KIND.eof;
                break;
              }
              if (got === 0) firstByte = nowMs();
              got += n;
              if (buf[n - 1] === eol) break;
            }
          }
        } catch (err) {
          kind = classify(err, u, connecting);
        }
        u.deadline = 0;
        if (u.abandoned) {
          u.conn = undefined;
          break;
        }
        const end = nowMs();
        stats.record(
          u.local,
          u.thread,
          sampleStart,
          end,
          firstByte,
          connectMs,
          got,
          kind,
          start,
          waitMs,
        );
        if (kind >= 0) {
          closeConn(u);
          if (config.onError === "stopThread") break;
          if (config.onError === "stopTest") {
            hooks.stopTest();
            break;
          }
        } else if (!config.reuseConnection) {
          closeConn(u);
        }
      }
    } finally {
      closeConn(u);
      stats.finished++;
    }
  }

  try {
    await Promise.all(users.map(runUser));
  } finally {
    clearInterval(watchdog);
    clearInterval(ticker);
  }
}
