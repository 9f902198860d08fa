import { cloudEventsWebhookHandshake, parseEventGrid } from "../shared/events/index.js";
import type { HttpFunction } from "./declaration.js";
import { errorResponse } from "./http.js";
import type { Services } from "./services.js";
import { acceptRegistryEvents } from "./webhook-common.js";

/**
 * `POST /api/webhooks/eventgrid` (webhook key): Event Grid `Microsoft.ContainerRegistry.ImagePushed`
 * / `ImageDeleted` in the Event Grid schema (with the subscription validation handshake) and in
 * CloudEvents 1.0, single or batched; `OPTIONS` answers CloudEvents' abuse-protection handshake.
 */
export const webhookEventGrid: HttpFunction<Services> = {
  kind: "http",
  name: "webhookEventGrid",
  route: "api/webhooks/eventgrid",
  methods: ["POST", "OPTIONS"],
  key: "webhook",
  handler: async (request, context, services) => {
    if (request.method === "OPTIONS") {
      const handshake = cloudEventsWebhookHandshake(request.headers);
      if (handshake.kind === "refused") return errorResponse(handshake.status, "EVENT.HANDSHAKE_REFUSED", handshake.reason);
      return { status: 200, headers: handshake.headers };
    }
    return acceptRegistryEvents(request, context, services, (type, body) => parseEventGrid(type, body));
  }
};
