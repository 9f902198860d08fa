import type { Timer } from "@azure/functions";
import { describeError } from "../../shared/domain/errors.js";
import { IntervalSchedule, parseTimerSchedule, type Schedule } from "./ncrontab.js";

/** Time as the scheduler sees it; tests pass a clock they move by hand. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

export type HostLog = (level: "info" | "warn" | "error", message: string) => void;

export interface TimerSchedulerOptions {
  /** The function's name, for log lines. */
  readonly name: string;
  /** NCRONTAB or a TimeSpan interval (see `parseTimerSchedule`), or an already parsed schedule. */
  readonly schedule: string | Schedule;
  readonly runOnStartup?: boolean;
  /** A rejection is logged and the schedule goes on, as with the Functions host. */
  readonly handler: (timer: Timer) => Promise<void>;
  readonly clock?: Clock;
  readonly log?: HostLog;
  /** A fire later than its occurrence by more than this is `isPastDue`. Defaults to 1000 ms. */
  readonly pastDueToleranceMs?: number;
}

export interface TimerScheduler {
  /** Epoch ms of the next run, undefined while a run is in progress, after stop, or when the schedule never fires again. */
  readonly nextRunAt: number | undefined;
  /** Stops firing and waits (up to `timeoutMs`, default 30 s) for a run in progress. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Node's timers overflow past 2^31−1 ms (about 24.8 days) and fire at once; longer waits go in legs. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Runs a timer function on its schedule as the Functions host does: optionally once on startup;
 * never two runs at once, because the next occurrence is computed only after a run ends (a run
 * that outlasts occurrences skips them); `isPastDue` when the fire comes late.
 */
export function startTimerScheduler(options: TimerSchedulerOptions): TimerScheduler {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const tolerance = options.pastDueToleranceMs ?? 1000;
  const schedule = typeof options.schedule === "string" ? parseTimerSchedule(options.schedule) : options.schedule;

  let stopped = false;
  let handle: unknown;
  let nextRunAt: number | undefined;
  let running: Promise<void> | undefined;

  const iso = (ms: number) => new Date(ms).toISOString();

  const run = async (scheduledAt: number): Promise<void> => {
    const startedAt = clock.now();
    const following = schedule.next(startedAt);
    const timer: Timer = {
      isPastDue: startedAt - scheduledAt > tolerance,
      schedule: { adjustForDST: !(schedule instanceof IntervalSchedule) },
      scheduleStatus: {
        last: iso(scheduledAt),
        next: following === undefined ? "" : iso(following),
        lastUpdated: iso(startedAt)
      }
    };
    try {
      await options.handler(timer);
    } catch (e) {
      log("error", `timer ${options.name}: run failed: ${describeError(e)}`);
    }
  };

  const fire = (scheduledAt: number) => {
    handle = undefined;
    if (stopped) return;
    const now = clock.now();
    if (now < scheduledAt) {
      wait(scheduledAt);
      return;
    }
    nextRunAt = undefined;
    running = run(scheduledAt).finally(() => {
      running = undefined;
      arm();
    });
  };

  const wait = (at: number) => {
    const delay = Math.max(0, Math.min(at - clock.now(), MAX_TIMER_MS));
    handle = clock.setTimeout(() => fire(at), delay);
  };

  const arm = () => {
    if (stopped) return;
    const next = schedule.next(clock.now());
    nextRunAt = next;
    if (next === undefined) {
      log("warn", `timer ${options.name}: schedule "${schedule.expression}" has no further occurrence`);
      return;
    }
    wait(next);
  };

  if (options.runOnStartup === true) {
    // Startup runs are never past due: they are not an occurrence of the schedule.
    running = run(clock.now()).finally(() => {
      running = undefined;
      arm();
    });
  } else {
    arm();
  }

  return {
    get nextRunAt() {
      return nextRunAt;
    },
    async stop(timeoutMs = 30_000) {
      stopped = true;
      nextRunAt = undefined;
      if (handle !== undefined) clock.clearTimeout(handle);
      handle = undefined;
      if (running === undefined) return;
      let bound: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        bound = setTimeout(() => resolve(true), timeoutMs);
        bound.unref();
      });
      const leftBehind = await Promise.race([running.then(() => false), timedOut]);
      clearTimeout(bound);
      if (leftBehind) log("warn", `timer ${options.name}: a run still in progress after ${timeoutMs} ms was left behind`);
    }
  };
}
