import { dashboardStats } from "../shared/usecases/verdicts-stats.js";
import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";

/**
 * `GET /api/stats` (read key): counts by verdict and scan state and findings by severity (from
 * the verdict sweep's last finished pass), queue depths and poison counts, scans in the last
 * hour, the DB version and age of the newest match.
 */
export const stats: HttpFunction<Services> = {
  kind: "http",
  name: "stats",
  route: "api/stats",
  methods: ["GET"],
  key: "read",
  handler: async (_request, _context, services) => {
    const body = await dashboardStats({
      images: services.store.images,
      state: services.store.state,
      now: () => new Date(),
      queueDepth: async (queue) => {
        try {
          return (await services.storage.queues.getQueueClient(queue).getProperties()).approximateMessagesCount ?? 0;
        } catch (e) {
          // A queue never written to does not exist yet: nothing waits in it.
          if ((e as { statusCode?: number }).statusCode === 404) return 0;
          return undefined;
        }
      }
    });
    return json(200, body);
  }
};
