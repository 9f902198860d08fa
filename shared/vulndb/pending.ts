/**
 * Records indexed while no DB existed carry `dbVersion: "none"` (and the `no-vulnerability-db`
 * gap). As soon as a DB exists, or a new version appears, each of them is queued on
 * `rematch-requests` (DESIGN principle 7: the function app matches it), so no scan request waits
 * for a DB and verdicts leave `pending` without a rescan.
 *
 * Bounded: one run examines at most `maxRecords` records, in pages, and saves its cursor in the
 * `state` container; the next run goes on from there. Idempotent: a pass is kept per DB version and
 * not repeated once complete, and a rematch of a record already matched by the version is a no-op
 * (`rematch.ts`). One more pass runs once `settleMs` has passed since the version was first seen,
 * for records whose scan asked for a matcher just before the DB appeared and wrote "none" after
 * the first pass went by them.
 */
import { z } from "zod";
import { describeError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image-record.js";
import { NO_DB_VERSION } from "../domain/match.js";
import { QUEUES, type QueueSender } from "../queues/queues.js";
import { listImages } from "../store/image-queries.js";
import type { Container, JsonDocument } from "../store/port.js";
import type { RematchRequest } from "./rematch.js";

export const PENDING_CURSOR_ID = "vulndb-pending-rematch";
const PAGE_SIZE = 200;

const CursorSchema = z.object({
  id: z.literal(PENDING_CURSOR_ID),
  dbVersion: z.string().min(1),
  firstSeenAt: z.iso.datetime(),
  passStartedAt: z.iso.datetime(),
  passCompletedAt: z.iso.datetime().optional(),
  continuation: z.string().optional(),
  /** Requests queued for this version so far, over all passes. */
  queued: z.int().nonnegative()
});
type Cursor = z.infer<typeof CursorSchema>;

export interface PendingRematchDeps {
  readonly images: Container<ImageRecord>;
  readonly state: Container<JsonDocument>;
  readonly queues: QueueSender;
  readonly now: () => Date;
  /** Records examined per run at most. */
  readonly maxRecords: number;
  /** How long after a version first appears a last pass still runs (the longest scan plus the matcher's recheck). */
  readonly settleMs: number;
  readonly log?: (message: string) => void;
}

export interface PendingRematchOutcome {
  readonly examined: number;
  readonly queued: number;
  /** Nothing left to do for this version. */
  readonly done: boolean;
}

/** Never-matched records of one run, queued for a rematch against `dbVersion`. */
export async function queueNeverMatched(dbVersion: string, deps: PendingRematchDeps): Promise<PendingRematchOutcome> {
  const nowIso = (): string => deps.now().toISOString();
  const stored = CursorSchema.safeParse((await deps.state.get(PENDING_CURSOR_ID))?.doc);
  let cursor: Cursor;
  if (!stored.success || stored.data.dbVersion !== dbVersion) {
    cursor = { id: PENDING_CURSOR_ID, dbVersion, firstSeenAt: nowIso(), passStartedAt: nowIso(), queued: 0 };
  } else if (stored.data.passCompletedAt !== undefined) {
    const settledAt = Date.parse(stored.data.firstSeenAt) + deps.settleMs;
    // The last pass began after every scan that could have missed the version had ended: done.
    if (Date.parse(stored.data.passStartedAt) >= settledAt || deps.now().getTime() < settledAt) return { examined: 0, queued: 0, done: Date.parse(stored.data.passStartedAt) >= settledAt };
    const { passCompletedAt: _completed, continuation: _c, ...rest } = stored.data;
    cursor = { ...rest, passStartedAt: nowIso() };
  } else {
    cursor = stored.data;
  }

  let examined = 0;
  let queued = 0;
  while (examined < deps.maxRecords) {
    let page;
    try {
      page = await listImages(deps.images, {}, { limit: Math.min(PAGE_SIZE, deps.maxRecords - examined), ...(cursor.continuation === undefined ? {} : { continuation: cursor.continuation }) });
    } catch (e) {
      if (cursor.continuation === undefined) throw e;
      // A token the store no longer honours: start the pass again rather than stall.
      deps.log?.(`pending rematch: cursor not honoured (${describeError(e)}); starting the pass again`);
      const { continuation: _c, ...rest } = cursor;
      cursor = { ...rest, passStartedAt: nowIso() };
      continue;
    }
    for (const record of page.items) {
      examined++;
      if (record.kind !== "image" || record.result?.dbVersion !== NO_DB_VERSION) continue;
      const request: RematchRequest = { digest: record.id, cause: `vulnerability DB ${dbVersion} available`, requestedAt: nowIso() };
      await deps.queues.send(QUEUES.rematchRequests, request);
      queued++;
    }
    const { continuation: _previous, ...rest } = cursor;
    // Saved after every page: a crash re-queues at most one page, which the rematch shrugs off.
    cursor = page.continuation === undefined ? { ...rest, queued: rest.queued + queued, passCompletedAt: nowIso() } : { ...rest, continuation: page.continuation };
    if (page.continuation === undefined) {
      await deps.state.upsert(cursor);
      return { examined, queued, done: Date.parse(cursor.passStartedAt) >= Date.parse(cursor.firstSeenAt) + deps.settleMs };
    }
    await deps.state.upsert({ ...cursor, queued: cursor.queued + queued });
  }
  return { examined, queued, done: false };
}
