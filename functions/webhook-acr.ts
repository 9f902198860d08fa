import { parseAcrWebhook } from "../shared/events/index.js";
import type { HttpFunction } from "./declaration.js";
import type { Services } from "./services.js";
import { acceptRegistryEvents } from "./webhook-common.js";

/**
 * `POST /api/webhooks/acr` (webhook key): ACR webhooks — push (an import arrives as one), delete,
 * chart and quarantine events, ping. Configure the webhook's service URI as
 * `https://<app>/api/webhooks/acr?code=<WEBHOOK_KEY>` or send the key as `x-functions-key`.
 */
export const webhookAcr: HttpFunction<Services> = {
  kind: "http",
  name: "webhookAcr",
  route: "api/webhooks/acr",
  methods: ["POST"],
  key: "webhook",
  // ACR lets a custom header override the content type, so the body decides, not the header.
  handler: (request, context, services) => acceptRegistryEvents(request, context, services, (_type, body) => parseAcrWebhook(body))
};
