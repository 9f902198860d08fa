/**
 * What a dashboard needs in one call (`GET /api/stats`), without reading every record: the counts
 * by verdict, scan state and finding severity come from the sweep's last finished pass (saved in
 * `state`); queue depths from the queue service; scans in the last hour from one bounded recency
 * query; the DB version from the most recently scanned record.
 */
import type { ImageRecord } from "../domain/image-record.js";
import { QUEUES, poisonQueueOf } from "../queues/queues.js";
import { listRecentImages } from "../store/image-queries.js";
import type { Container, JsonDocument } from "../store/port.js";
import { readStats } from "./verdicts-sweep.js";

/** Scans in the last hour are counted up to this many (then reported as "at least"). */
export const RECENT_SCANS_CAP = 5000;

export interface StatsDeps {
  readonly images: Container<ImageRecord>;
  readonly state: Container<JsonDocument>;
  /** Approximate messages waiting; undefined when the queue service cannot say. */
  readonly queueDepth: (queue: string) => Promise<number | undefined>;
  readonly now: () => Date;
}

export async function dashboardStats(deps: StatsDeps): Promise<Record<string, unknown>> {
  const now = deps.now();
  const names = Object.values(QUEUES);
  const [stats, depths, recent, newest] = await Promise.all([
    readStats(deps.state),
    Promise.all(names.map(async (q) => [q, { depth: await deps.queueDepth(q), poison: await deps.queueDepth(poisonQueueOf(q)) }] as const)),
    countRecentScans(deps.images, new Date(now.getTime() - 3_600_000)),
    listRecentImages(deps.images, { by: "lastScannedAt" }, { limit: 1 })
  ]);
  const latest = newest.items[0]?.result;
  return {
    at: now.toISOString(),
    ...(stats === undefined
      ? { counts: null, countsNote: "the verdict sweep has not finished a pass yet" }
      : { counts: { ...stats.tallies, policyVersion: stats.policyVersion, passStartedAt: stats.passStartedAt, completedAt: stats.completedAt } }),
    queues: Object.fromEntries(depths),
    scansLastHour: recent,
    db:
      latest === undefined
        ? null
        : { version: latest.dbVersion, lastMatchAt: latest.matchedAt, lastMatchAgeSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(latest.matchedAt)) / 1000)) }
  };
}

async function countRecentScans(images: Container<ImageRecord>, since: Date): Promise<{ count: number; atLeast: boolean }> {
  let count = 0;
  let continuation: string | undefined;
  do {
    const page = await listRecentImages(images, { by: "lastScannedAt", since }, { limit: 1000, ...(continuation === undefined ? {} : { continuation }) });
    count += page.items.length;
    continuation = page.continuation;
  } while (continuation !== undefined && count < RECENT_SCANS_CAP);
  return { count, atLeast: continuation !== undefined };
}
