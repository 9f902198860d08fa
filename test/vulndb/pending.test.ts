import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { newImageRecord, type ImageRecord } from "../../shared/domain/image-record.js";
import { NO_DB_GAP, NO_DB_VERSION } from "../../shared/domain/match.js";
import { QUEUES, type QueueSender } from "../../shared/queues/queues.js";
import { listImages } from "../../shared/store/image-queries.js";
import { openStore } from "../../shared/store/open-store.js";
import type { Store } from "../../shared/store/port.js";
import { queueNeverMatched, type PendingRematchDeps } from "../../shared/vulndb/pending.js";
import { tempDir } from "./support.js";

/**
 * Queueing never-matched records once a DB exists: every such record exactly once per pass, in
 * bounded runs that resume from the saved cursor and read only those records, nothing for a
 * version already done, a new pass for a new version, one late pass for scans that missed the
 * version's arrival, and a cursor saved by the earlier pass over every record started again.
 */

const t = tempDir("pending");
let store: Store<ImageRecord>;
const sent: { queue: string; body: { digest: string; cause?: string } }[] = [];
const queues: QueueSender = { send: async (queue, body) => void sent.push({ queue, body: body as { digest: string } }), ping: async () => ({ ok: true }) };
let clock = Date.parse("2024-06-01T00:00:00Z");
const SETTLE = 10 * 60_000;
const deps = (maxRecords: number): PendingRematchDeps => ({ images: store.images, state: store.state, queues, now: () => new Date(clock), maxRecords, settleMs: SETTLE });

const digestOf = (i: number): Digest => `sha256:${i.toString(16).padStart(64, "0")}` as Digest;
/** 450 records: every third never matched, every third matched, every third without a result (or an index). */
const never = new Set<string>();

function record(i: number): ImageRecord {
  const at = "2024-05-01T00:00:00.000Z";
  const base = { ...newImageRecord(digestOf(i), new Date(at)), kind: "image" as const, scan: { state: "done" as const, requestKind: "index" as const, attempts: 1, updatedAt: at } };
  const result = (dbVersion: string): ImageRecord["result"] => ({
    analyzers: { "os/dpkg": "1" },
    sbom: { blob: `sboms/sha256/${i}.cdx.json`, mediaType: "application/vnd.cyclonedx+json" },
    packageCounts: {},
    findings: [],
    coverageGaps: dbVersion === NO_DB_VERSION ? [NO_DB_GAP] : [],
    indexedAt: at,
    dbVersion,
    matchedAt: at
  });
  if (i % 3 === 0) {
    never.add(digestOf(i));
    return { ...base, result: result(NO_DB_VERSION) };
  }
  if (i % 3 === 1) return { ...base, result: result("20240501T000000Z-abc") };
  return i % 2 === 0 ? base : { ...base, kind: "index" };
}

beforeAll(async () => {
  store = await openStore({ kind: "sqlite", path: join(t.dir, "store.sqlite") });
  for (let i = 0; i < 450; i++) await store.images.upsert(record(i));
});
afterAll(async () => {
  await store.close();
  t.remove();
});

describe("queueNeverMatched", () => {
  it("queues each never-matched record once, in runs bounded by maxRecords that resume from the cursor, reading no other record", async () => {
    sent.length = 0;
    const runs = [];
    for (let i = 0; i < 10; i++) {
      const outcome = await queueNeverMatched("v1", deps(100));
      runs.push(outcome);
      expect(outcome.examined).toBeLessThanOrEqual(100);
      if (outcome.examined === 0) break;
    }
    // The store lists the 150 never-matched records only, not all 450.
    expect(runs.map((r) => r.examined)).toEqual([100, 50, 0]);
    expect(runs.map((r) => r.queued)).toEqual([100, 50, 0]);
    expect(sent.every((s) => s.queue === QUEUES.rematchRequests)).toBe(true);
    expect(sent.map((s) => s.body.digest).sort()).toEqual([...never].sort());
    expect(sent[0]?.body.cause).toContain("v1");
  });

  it("does nothing more for the same version until the settle time, then one last pass, then nothing", async () => {
    sent.length = 0;
    expect(await queueNeverMatched("v1", deps(1000))).toEqual({ examined: 0, queued: 0, done: false });
    // A scan that read "no DB" just before v1 appeared wrote its result after the pass.
    const late = digestOf(1000);
    await store.images.upsert({ ...record(0), id: late });
    clock += SETTLE;
    const last = await queueNeverMatched("v1", deps(1000));
    expect(last).toMatchObject({ queued: never.size + 1, done: true });
    expect(sent.map((s) => s.body.digest)).toContain(late);
    sent.length = 0;
    clock += SETTLE;
    expect(await queueNeverMatched("v1", deps(1000))).toEqual({ examined: 0, queued: 0, done: true });
    expect(sent).toEqual([]);
    await store.images.delete(late);
  });

  it("a new DB version starts a new pass over what is still unmatched", async () => {
    sent.length = 0;
    const matched = [...never][0] ?? "";
    await store.images.update(matched, (r) => (r?.result === undefined ? undefined : { ...r, result: { ...r.result, dbVersion: "v1" } }));
    const outcome = await queueNeverMatched("v2", deps(1000));
    expect(outcome.queued).toBe(never.size - 1);
    expect(sent.map((s) => s.body.digest)).not.toContain(matched);
  });

  it("a cursor saved part-way through the earlier pass over every record starts the pass again, keeping its version", async () => {
    sent.length = 0;
    const firstSeenAt = new Date(clock).toISOString();
    // Even a token the store would accept for this listing: without the listing mark it is not this listing's.
    const token = (await listImages(store.images, { dbVersion: NO_DB_VERSION }, { limit: 10 })).continuation;
    await store.state.upsert({ id: "vulndb-pending-rematch", dbVersion: "v3", firstSeenAt, passStartedAt: firstSeenAt, continuation: token, queued: 7 });
    clock += 60_000;
    const outcome = await queueNeverMatched("v3", deps(1000));
    expect(outcome).toEqual({ examined: never.size - 1, queued: never.size - 1, done: false });
    expect(sent.length).toBe(never.size - 1);
    expect((await store.state.get("vulndb-pending-rematch"))?.doc).toEqual({
      id: "vulndb-pending-rematch",
      dbVersion: "v3",
      firstSeenAt,
      passStartedAt: new Date(clock).toISOString(),
      passCompletedAt: new Date(clock).toISOString(),
      listing: "never-matched",
      queued: 7 + never.size - 1
    });
  });

  it("a saved cursor from another shape is not trusted: a fresh pass", async () => {
    sent.length = 0;
    await store.state.upsert({ id: "vulndb-pending-rematch", dbVersion: 3 });
    expect((await queueNeverMatched("v2", deps(1000))).queued).toBe(never.size - 1);
  });
});
