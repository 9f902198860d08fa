import type { Timer } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { startTimerScheduler, type Clock, type TimerScheduler } from "../../functions/host/timer-scheduler.js";

/** A clock moved by hand; `lateByMs` makes every pending timer fire that much after its due time. */
class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  readonly requestedDelays: number[] = [];
  lateByMs = 0;

  constructor(startIso: string) {
    this.t = Date.parse(startIso);
  }

  now(): number {
    return this.t;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    this.requestedDelays.push(ms);
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Fires every timer due up to `iso`, in order, letting promises settle after each. */
  async advanceTo(iso: string): Promise<void> {
    const target = Date.parse(iso);
    await settle();
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) {
        const at = entry[1].at + this.lateByMs;
        if (at <= target && (due === undefined || at < due[1].at + this.lateByMs)) due = entry;
      }
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at + this.lateByMs);
      due[1].callback();
      await settle();
    }
    this.t = target;
  }

  get pending(): number {
    return this.timers.size;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const iso = (ms: number) => new Date(ms).toISOString();

let scheduler: TimerScheduler | undefined;
afterEach(async () => {
  await scheduler?.stop(1000);
  scheduler = undefined;
});

describe("timer scheduler (injected clock)", () => {
  it("fires on each occurrence of the schedule, not before", async () => {
    const clock = new ManualClock("2024-01-01T00:00:03.000Z");
    const fired: { at: string; timer: Timer }[] = [];
    scheduler = startTimerScheduler({
      name: "t",
      schedule: "*/10 * * * * *",
      clock,
      handler: async (timer) => {
        fired.push({ at: iso(clock.now()), timer });
      }
    });
    expect(iso(scheduler.nextRunAt ?? 0)).toBe("2024-01-01T00:00:10.000Z");
    await clock.advanceTo("2024-01-01T00:00:09.999Z");
    expect(fired).toEqual([]);
    await clock.advanceTo("2024-01-01T00:00:35.000Z");
    expect(fired.map((f) => f.at)).toEqual([
      "2024-01-01T00:00:10.000Z",
      "2024-01-01T00:00:20.000Z",
      "2024-01-01T00:00:30.000Z"
    ]);
    expect(fired[0]?.timer).toEqual({
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: "2024-01-01T00:00:10.000Z",
        next: "2024-01-01T00:00:20.000Z",
        lastUpdated: "2024-01-01T00:00:10.000Z"
      }
    });
  });

  it("runs on startup when asked, then on schedule", async () => {
    const clock = new ManualClock("2024-01-01T00:00:03.000Z");
    const fired: { at: string; pastDue: boolean }[] = [];
    scheduler = startTimerScheduler({
      name: "t",
      schedule: "0 * * * * *",
      runOnStartup: true,
      clock,
      handler: async (timer) => {
        fired.push({ at: iso(clock.now()), pastDue: timer.isPastDue });
      }
    });
    await clock.advanceTo("2024-01-01T00:01:30.000Z");
    expect(fired).toEqual([
      { at: "2024-01-01T00:00:03.000Z", pastDue: false },
      { at: "2024-01-01T00:01:00.000Z", pastDue: false }
    ]);
  });

  it("never overlaps: the next occurrence is computed after a run ends", async () => {
    const clock = new ManualClock("2024-01-01T00:00:00.500Z");
    const starts: string[] = [];
    const ends: string[] = [];
    let active = 0;
    let maxActive = 0;
    scheduler = startTimerScheduler({
      name: "slow",
      schedule: "*/10 * * * * *",
      clock,
      handler: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        starts.push(iso(clock.now()));
        // a run that takes 25 s of clock time, spanning two occurrences
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 25_000));
        ends.push(iso(clock.now()));
        active--;
      }
    });
    await clock.advanceTo("2024-01-01T00:01:00.000Z");
    expect(maxActive).toBe(1);
    // 00:10 runs until 00:35; 00:20 and 00:30 are skipped; 00:40 runs until 01:05
    expect(starts).toEqual(["2024-01-01T00:00:10.000Z", "2024-01-01T00:00:40.000Z"]);
    expect(ends).toEqual(["2024-01-01T00:00:35.000Z"]);
    await clock.advanceTo("2024-01-01T00:01:06.000Z");
    expect(ends).toEqual(["2024-01-01T00:00:35.000Z", "2024-01-01T00:01:05.000Z"]);
    expect(iso(scheduler.nextRunAt ?? 0)).toBe("2024-01-01T00:01:10.000Z");
  });

  it("marks a late fire isPastDue", async () => {
    const clock = new ManualClock("2024-01-01T00:00:00.000Z");
    const fired: { at: string; pastDue: boolean; last: string }[] = [];
    scheduler = startTimerScheduler({
      name: "t",
      schedule: "0 * * * * *",
      clock,
      handler: async (timer) => {
        fired.push({ at: iso(clock.now()), pastDue: timer.isPastDue, last: timer.scheduleStatus.last });
      }
    });
    await clock.advanceTo("2024-01-01T00:01:30.000Z");
    // the machine was asleep: the next timer comes 45 s late
    clock.lateByMs = 45_000;
    await clock.advanceTo("2024-01-01T00:03:00.000Z");
    expect(fired).toEqual([
      { at: "2024-01-01T00:01:00.000Z", pastDue: false, last: "2024-01-01T00:01:00.000Z" },
      { at: "2024-01-01T00:02:45.000Z", pastDue: true, last: "2024-01-01T00:02:00.000Z" }
    ]);
  });

  it("keeps its schedule after a failed run", async () => {
    const clock = new ManualClock("2024-01-01T00:00:00.000Z");
    const logs: string[] = [];
    let calls = 0;
    scheduler = startTimerScheduler({
      name: "flaky",
      schedule: "0 * * * * *",
      clock,
      log: (_level, message) => logs.push(message),
      handler: async () => {
        calls++;
        throw new Error("boom");
      }
    });
    await clock.advanceTo("2024-01-01T00:03:00.000Z");
    expect(calls).toBe(3);
    expect(logs.filter((l) => l.includes("boom"))).toHaveLength(3);
  });

  it("runs a TimeSpan schedule one interval after each run ends", async () => {
    const clock = new ManualClock("2024-01-01T00:00:00.000Z");
    const starts: string[] = [];
    scheduler = startTimerScheduler({
      name: "interval",
      schedule: "00:00:10",
      clock,
      handler: async () => {
        starts.push(iso(clock.now()));
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 3_000));
      }
    });
    await clock.advanceTo("2024-01-01T00:00:40.000Z");
    expect(starts).toEqual(["2024-01-01T00:00:10.000Z", "2024-01-01T00:00:23.000Z", "2024-01-01T00:00:36.000Z"]);
  });

  it("waits past Node's 24.8-day timer limit in legs", async () => {
    const clock = new ManualClock("2024-01-02T00:00:00.000Z");
    const fired: string[] = [];
    scheduler = startTimerScheduler({
      name: "yearly",
      schedule: "0 0 0 1 1 *",
      clock,
      handler: async () => {
        fired.push(iso(clock.now()));
      }
    });
    await clock.advanceTo("2025-06-01T00:00:00.000Z");
    expect(fired).toEqual(["2025-01-01T00:00:00.000Z"]);
    expect(Math.max(...clock.requestedDelays)).toBeLessThanOrEqual(2_147_483_647);
  });

  it("stop() fires nothing more and waits for the run in progress", async () => {
    const clock = new ManualClock("2024-01-01T00:00:00.000Z");
    let release: () => void = () => undefined;
    let calls = 0;
    let finished = false;
    const s = startTimerScheduler({
      name: "t",
      schedule: "* * * * * *",
      clock,
      handler: async () => {
        calls++;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      }
    });
    await clock.advanceTo("2024-01-01T00:00:01.000Z");
    expect(calls).toBe(1);
    const stopping = s.stop(10_000);
    release();
    await stopping;
    expect(finished).toBe(true);
    await clock.advanceTo("2024-01-01T00:01:00.000Z");
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
    expect(s.nextRunAt).toBeUndefined();
  });
});
