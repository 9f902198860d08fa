/**
 * Records indexed while no DB existed carry `dbVersion: "none"` (and the `no-vulnerability-db`
 * gap). As soon as a DB exists, or a new version appears, each of them is queued on
 * `rematch-requests` (DESIGN principle 7: the function app matches it), so no scan request waits
 * for a DB and verdicts leave `pending` without a rescan.
 *
 * Bounded: the store lists only those records (`result.dbVersion` is indexed), one run takes at
 * most `maxRecords` of them, in pages, and saves its cursor in the `state` container; the next run
 * goes on from there (`paged-pass.ts`). Idempotent: a pass is kept per DB version and not repeated
 * once complete, and a rematch of a record already matched by the version is a no-op
 * (`rematch.ts`). One more pass runs once `settleMs` has passed since the version was first seen,
 * for records whose scan asked for a matcher just before the DB appeared and wrote "none" after
 * the first pass went by them.
 */
import { z } from "zod";
import type { ImageRecord } from "../domain/image-record.js";
import { NO_DB_VERSION } from "../domain/match.js";
import { QUEUES, type QueueSender } from "../queues/queues.js";
import { listImages } from "../store/image-queries.js";
import type { Container, JsonDocument } from "../store/port.js";
import { readPassCursor, runPagedPass, withoutContinuation } from "../usecases/paged-pass.js";
import type { RematchRequest } from "./rematch.js";

export const PENDING_CURSOR_ID = "vulndb-pending-rematch";
/** Marks a cursor whose continuation belongs to the listing of never-matched records only. */
const LISTING = "never-matched";

const CursorSchema = z.object({
  id: z.literal(PENDING_CURSOR_ID),
  dbVersion: z.string().min(1),
  firstSeenAt: z.iso.datetime(),
  passStartedAt: z.iso.datetime(),
  passCompletedAt: z.iso.datetime().optional(),
  continuation: z.string().optional(),
  /** Absent on cursors saved while the pass listed every record: their continuation is not this listing's. */
  listing: z.literal(LISTING).optional(),
  /** Requests queued for this version so far, over all passes. */
  queued: z.int().nonnegative()
});
type Cursor = z.infer<typeof CursorSchema>;

export interface PendingRematchDeps {
  readonly images: Container<ImageRecord>;
  readonly state: Container<JsonDocument>;
  readonly queues: QueueSender;
  readonly now: () => Date;
  /** Never-matched records taken per run at most. */
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
  const settled = (c: Cursor): boolean => Date.parse(c.passStartedAt) >= Date.parse(c.firstSeenAt) + deps.settleMs;
  const startAgain = (c: Cursor): Cursor => ({ ...c, passStartedAt: nowIso() });
  const stored = await readPassCursor(deps.state, PENDING_CURSOR_ID, CursorSchema);
  let cursor: Cursor;
  if (stored === undefined || stored.dbVersion !== dbVersion) {
    cursor = { id: PENDING_CURSOR_ID, dbVersion, firstSeenAt: nowIso(), passStartedAt: nowIso(), listing: LISTING, queued: 0 };
  } else if (stored.passCompletedAt !== undefined) {
    // The last pass began after every scan that could have missed the version had ended: done.
    if (settled(stored) || deps.now().getTime() < Date.parse(stored.firstSeenAt) + deps.settleMs) return { examined: 0, queued: 0, done: settled(stored) };
    const { passCompletedAt: _completed, ...rest } = stored;
    cursor = startAgain({ ...withoutContinuation(rest), listing: LISTING });
  } else if (stored.continuation !== undefined && stored.listing === undefined) {
    // Saved part-way through a pass over every record: that continuation means nothing to this listing.
    cursor = startAgain({ ...withoutContinuation(stored), listing: LISTING });
  } else {
    cursor = { ...stored, listing: LISTING };
  }

  let queued = 0;
  const outcome = await runPagedPass({
    name: "pending rematch",
    state: deps.state,
    cursor,
    list: (page) => listImages(deps.images, { dbVersion: NO_DB_VERSION }, page),
    maxRecords: deps.maxRecords,
    visit: async (record, c) => {
      const request: RematchRequest = { digest: record.id, cause: `vulnerability DB ${dbVersion} available`, requestedAt: nowIso() };
      await deps.queues.send(QUEUES.rematchRequests, request);
      queued++;
      // Counted on the cursor, saved after every page: a crash re-queues at most one page, which the rematch shrugs off.
      c.queued++;
    },
    restart: startAgain,
    finish: (c) => ({ ...c, passCompletedAt: nowIso() }),
    log: deps.log
  });
  return { examined: outcome.examined, queued, done: outcome.finished && settled(outcome.cursor) };
}
