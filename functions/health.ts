import type { HttpFunction } from "./declaration.js";
import { json } from "./http.js";
import type { Services } from "./services.js";
import { VERSION } from "../shared/version.js";

/**
 * `GET /api/health` (read key): whether the store and the queue service answer, versions and
 * uptime. 200 when both answer, 503 when either does not (so probes can use it as is).
 */
export const health: HttpFunction<Services> = {
  kind: "http",
  name: "health",
  route: "api/health",
  methods: ["GET"],
  key: "read",
  handler: async (_request, _context, services) => {
    const [store, queue] = await Promise.all([services.store.ping(), services.queues.ping()]);
    const ok = store.ok && queue.ok;
    return json(ok ? 200 : 503, {
      status: ok ? "ok" : "degraded",
      version: VERSION,
      node: process.version,
      uptimeSeconds: Math.round((Date.now() - services.startedAt.getTime()) / 1000),
      store: { kind: services.store.kind, ...store },
      queue
    });
  }
};
