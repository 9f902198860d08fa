import { parseDistribution } from "../shared/events/index.js";
import type { HttpFunction } from "./declaration.js";
import type { Services } from "./services.js";
import { acceptRegistryEvents } from "./webhook-common.js";

/**
 * `POST /api/webhooks/distribution` (webhook key): CNCF distribution notifications (`…events.v1+json`
 * and `…events.v2+json`): push, pull, delete, mount. Point an endpoint of the registry's
 * `notifications` at it with `headers: { x-functions-key: [<WEBHOOK_KEY>] }`.
 */
export const webhookDistribution: HttpFunction<Services> = {
  kind: "http",
  name: "webhookDistribution",
  route: "api/webhooks/distribution",
  methods: ["POST"],
  key: "webhook",
  handler: (request, context, services) => acceptRegistryEvents(request, context, services, (type, body) => parseDistribution(type, body))
};
