import { z } from "zod";
import { acrEventFromData } from "./acr-event-data.js";
import {
  idOf,
  ignored,
  invalid,
  invalidFromZod,
  isRecord,
  parseJsonBody,
  quote,
  collectEvents,
  type EventConversion,
  type InvalidBody,
  type ParsedEvents
} from "./result.js";

/**
 * ACR webhooks (`POST /api/webhooks/acr`): one event per request, `Content-Type: application/json`
 * unless the webhook sets a custom one, so the content type is not checked.
 * https://learn.microsoft.com/azure/container-registry/container-registry-webhook-reference
 *
 * - `push`: an image pushed, or imported (`az acr import` arrives as a push). → push
 * - `quarantine`: an image pushed into quarantine, waiting to be scanned; no payload is published,
 *   so it is taken as push-shaped (wire-formats.md). → push
 * - `delete`: a manifest or repository deleted (not a tag). → delete
 * - `chart_push`, `chart_delete`: legacy Helm chart repositories, no `request`. → ignored
 * - `ping`: the portal's Ping button / `az acr webhook ping`; its body is not documented, so only
 *   `action` is read. → ignored
 * - any other action → ignored, so that a new ACR action is acknowledged rather than retried.
 */
export const ACR_WEBHOOK_ACTIONS = ["push", "delete", "quarantine", "chart_push", "chart_delete", "ping"] as const;

const actionSchema = z.object({ action: z.string().max(64, { error: "must be at most 64 characters" }) });

/** Parses an ACR webhook body (the request's text). Never throws. */
export function parseAcrWebhook(body: string): ParsedEvents | InvalidBody {
  const json = parseJsonBody(body);
  return json.ok ? parseAcrWebhookValue(json.value) : json.error;
}

/** Parses an ACR webhook body that is already JSON-decoded. Never throws. */
export function parseAcrWebhookValue(value: unknown): ParsedEvents | InvalidBody {
  if (!isRecord(value)) return invalid([], "expected a JSON object");
  const head = actionSchema.safeParse(value);
  if (!head.success) return invalidFromZod([], head.error);
  const action = head.data.action;
  return collectEvents(1, () => convert(action, value));
}

function convert(action: string, value: Record<string, unknown>): EventConversion {
  switch (action) {
    case "push":
    case "quarantine":
      return acrEventFromData(value, "push", "acr", []);
    case "delete":
      return acrEventFromData(value, "delete", "acr", []);
    case "ping":
      return ignored("ping: a health probe, nothing to do", idOf(value.id));
    case "chart_push":
    case "chart_delete":
      return ignored(`${action}: a Helm chart event, not about an image`, idOf(value.id));
    default:
      return ignored(`action ${quote(action)} is not handled`, idOf(value.id));
  }
}
