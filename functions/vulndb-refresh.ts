import type { InvocationContext } from "@azure/functions";
import { queueNeverMatched } from "../shared/vulndb/pending.js";
import { refreshConfigFrom, VulnDbRefresher, type RefreshLog } from "../shared/vulndb/refresh.js";
import type { TimerFunction } from "./declaration.js";
import type { Services } from "./services.js";
import { pendingRematchDeps } from "./vulndb-pending.js";

/** One refresher per services object, so "said once" and "one at a time" hold per process. */
const refreshers = new WeakMap<Services, VulnDbRefresher>();

export function refresherOf(services: Services): VulnDbRefresher {
  let refresher = refreshers.get(services);
  if (refresher === undefined) {
    refresher = new VulnDbRefresher(refreshConfigFrom(services.settings), services.blobs);
    refreshers.set(services, refresher);
  }
  return refresher;
}

function logOf(context: InvocationContext): RefreshLog {
  return { info: (m) => context.info(m), warn: (m) => context.warn(m), debug: (m) => context.debug(m) };
}

/**
 * At start and hourly: the DB refresh (`VULNDB_DOWNLOAD`; incremental after the first build; in
 * Azure it publishes each new version as a blob). A new version is picked up at once and the
 * records that were never matched are queued for a rematch.
 *
 * On startup too, because the first `npm start` should build a DB without waiting an hour; a run
 * with nothing new reads only each ecosystem's `modified_id.csv` head, so a cold start in Azure
 * costs little.
 */
export const vulndbRefresh: TimerFunction<Services> = {
  kind: "timer",
  name: "vulndbRefresh",
  schedule: "0 7 * * * *",
  runOnStartup: true,
  handler: async (_timer, context, services) => {
    const outcome = await refresherOf(services).refresh(logOf(context));
    if (outcome.kind !== "built") return;
    const matcher = await services.vulndb.matcher({ fresh: true });
    if (matcher === undefined) return;
    const pending = await queueNeverMatched(matcher.dbVersion, pendingRematchDeps(services, context));
    if (pending.queued > 0) context.info(`queued ${pending.queued} never-matched record(s) for a rematch`);
  }
};
