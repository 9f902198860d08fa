import type { InvocationContext } from "@azure/functions";
import { queueNeverMatched, type PendingRematchDeps } from "../shared/vulndb/pending.js";
import type { TimerFunction } from "./declaration.js";
import type { Services } from "./services.js";

/** A scan that asked for a matcher just before a DB appeared ends within its timeout; the matcher is rechecked each minute. */
const SETTLE_EXTRA_MS = 2 * 60_000;

export function pendingRematchDeps(services: Services, context: InvocationContext): PendingRematchDeps {
  return {
    images: services.store.images,
    state: services.store.state,
    queues: services.queues,
    now: () => new Date(),
    maxRecords: services.settings.VULNDB_REMATCH_MAX_RECORDS,
    settleMs: services.settings.SCAN_TIMEOUT_SECONDS * 1000 + SETTLE_EXTRA_MS,
    log: (m) => context.warn(m)
  };
}

/**
 * Every two minutes: when a DB exists (built here, by `scanhook db`, or published by another
 * instance), queue the records indexed but never matched on `rematch-requests` — one bounded
 * slice per run, nothing at all once the pass for the current version is done.
 */
export const vulndbPending: TimerFunction<Services> = {
  kind: "timer",
  name: "vulndbPending",
  schedule: "30 */2 * * * *",
  handler: async (_timer, context, services) => {
    const matcher = await services.vulndb.matcher();
    if (matcher === undefined) return;
    const outcome = await queueNeverMatched(matcher.dbVersion, pendingRematchDeps(services, context));
    if (outcome.queued > 0) context.info(`queued ${outcome.queued} never-matched record(s) for a rematch against ${matcher.dbVersion}`);
  }
};
