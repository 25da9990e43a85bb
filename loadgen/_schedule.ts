/**
 * The Thread Group scheduler, one rule for every engine: when each thread
 * starts and when the whole group ends. Private to `loadgen/`.
 *
 * JMeter's rule (ThreadGroup with "Specify Thread lifetime"): the group's end
 * time is its start + startup delay + duration, the same for every thread; a
 * thread whose ramp-up start falls at or after the end time never starts; a
 * running thread starts no new sample once the end time has passed ("loops or
 * duration, whichever comes first"). A sample in flight at the end time runs
 * to its end (or its response timeout) and is recorded, as in JMeter 5.x.
 *
 * @module
 */

/** The scheduler fields of an engine config. */
export interface ScheduleConfig {
  /** Threads in the whole plan (ramp-up spacing). */
  threads: number;
  /** Ramp-up, ms. */
  rampUpMs: number;
  /** Startup delay before thread 0, ms (JMeter's `ThreadGroup.delay`). */
  delayMs?: number;
  /** Test-wide duration, ms from the group's start (after the delay). */
  durationMs?: number;
  /** Epoch ms when the group starts (before the delay). */
  startTime: number;
}

/**
 * When plan thread `thread` (0-based) starts, epoch ms: JMeter spaces thread
 * starts by rampUp/threads after the startup delay.
 *
 * @param config The schedule.
 * @param thread The thread's index in the plan.
 * @returns Epoch ms.
 */
export function threadStartAt(config: ScheduleConfig, thread: number): number {
  return config.startTime + (config.delayMs ?? 0) + thread * config.rampUpMs / config.threads;
}

/**
 * The group's end time, epoch ms, shared by every thread; Infinity without a
 * duration.
 *
 * @param config The schedule.
 * @returns Epoch ms.
 */
export function groupEndAt(config: ScheduleConfig): number {
  return config.durationMs === undefined
    ? Infinity
    : config.startTime + (config.delayMs ?? 0) + config.durationMs;
}

/**
 * Whether a thread scheduled to start at `startAt` starts at all: not when
 * its start falls at or after the group's end time.
 *
 * @param startAt The thread's start, epoch ms.
 * @param endAt The group's end time, epoch ms.
 * @returns True when the thread runs.
 */
export function threadRuns(startAt: number, endAt: number): boolean {
  return startAt < endAt;
}
