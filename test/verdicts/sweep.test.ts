import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ImageRecord } from "../../shared/domain/image-record.js";
import { defaultPolicy, type Policy } from "../../shared/domain/policy.js";
import { listImages } from "../../shared/store/image-queries.js";
import { openStore } from "../../shared/store/open-store.js";
import type { Store } from "../../shared/store/port.js";
import { emptyTallies, readStats, sweepVerdicts, SWEEP_CURSOR_ID, type SweepDeps } from "../../shared/usecases/verdicts-sweep.js";
import { finding, record, result, T0 } from "./records.js";

/**
 * The verdict sweep in bounded runs: it resumes from its saved cursor (also one saved before the
 * pass was factored into `paged-pass.ts`), writes the stats once a pass ends, and starts over when
 * the policy changes.
 */
describe("verdict sweep", () => {
  let store: Store<ImageRecord>;
  let policy: Policy;
  const deps = (maxRecords: number): SweepDeps => ({ images: store.images, state: store.state, policy: async () => policy, now: () => T0, maxRecords });

  beforeEach(async () => {
    store = await openStore({ kind: "sqlite", path: ":memory:" });
    policy = defaultPolicy();
    // 30 records: 10 queued (pending), 10 with a critical finding, 10 clean.
    for (let i = 0; i < 30; i++) {
      await store.images.upsert(
        record(`sweep-${i}`, i % 3 === 0 ? {} : { result: result(i % 3 === 1 ? [finding(`CVE-${i}`, { severity: "critical" })] : []) })
      );
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("covers every record once per pass in runs of maxRecords, then writes the counts and starts the next pass", async () => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await sweepVerdicts(deps(12)));
    expect(runs.map((r) => [r.examined, r.passCompleted])).toEqual([
      [12, false],
      [12, false],
      [6, true]
    ]);
    // A verdict is cached for each scanned record; a pending one has none to cache.
    expect(runs.reduce((n, r) => n + r.written, 0)).toBe(20);
    const stats = await readStats(store.state);
    expect(stats?.tallies.images).toBe(30);
    expect(stats?.tallies.byScanState.queued).toBe(10);
    expect(stats?.tallies.findingsBySeverity.critical).toBe(10);
    expect((await store.state.get(SWEEP_CURSOR_ID))?.doc).toEqual({ id: SWEEP_CURSOR_ID, policyVersion: policy.version, passStartedAt: T0.toISOString(), tallies: emptyTallies() });
    // Verdicts are cached now: the next pass examines all again and writes nothing.
    expect(await sweepVerdicts(deps(100))).toMatchObject({ examined: 30, written: 0, passCompleted: true });
  });

  it("goes on from a cursor saved part-way through a pass", async () => {
    const first = await listImages(store.images, {}, { limit: 10 });
    const tallies = { ...emptyTallies(), images: 10 };
    await store.state.upsert({ id: SWEEP_CURSOR_ID, policyVersion: policy.version, passStartedAt: "2026-11-23T09:00:00.000Z", continuation: first.continuation, tallies });
    expect(await sweepVerdicts(deps(100))).toMatchObject({ examined: 20, passCompleted: true });
    expect(await readStats(store.state)).toMatchObject({ passStartedAt: "2026-11-23T09:00:00.000Z", tallies: { images: 30 } });
  });

  it("a new policy version starts the pass again from the first record", async () => {
    await sweepVerdicts(deps(12));
    policy = { ...policy, version: "sha256:another" };
    const outcome = await sweepVerdicts(deps(100));
    expect(outcome).toMatchObject({ examined: 30, passCompleted: true, policyVersion: "sha256:another" });
    expect((await readStats(store.state))?.tallies.images).toBe(30);
  });
});
