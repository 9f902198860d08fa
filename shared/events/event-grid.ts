import { z } from "zod";
import { eventIdSchema } from "../domain/registry-event.js";
import { acrSystemEvent } from "./acr-event-data.js";
import {
  CLOUDEVENTS_BATCH_CONTENT_TYPE,
  CLOUDEVENTS_CONTENT_TYPE,
  parseCloudEvent,
  parseCloudEventBatch
} from "./cloudevents.js";
import {
  collectEvents,
  contentTypeEssence,
  invalid,
  invalidFromZod,
  isRecord,
  maxEventsOf,
  parseJsonBody,
  type EventConversion,
  type EventParseResult,
  type InvalidBody,
  type ParsedEvents,
  type ParseOptions,
  type SubscriptionValidation
} from "./result.js";
import { boundedText, optionalText } from "./wire.js";

/**
 * Event Grid (`POST /api/webhooks/eventgrid`): a subscription to an ACR system topic delivers
 * either the Event Grid schema (a JSON array, `application/json`) or CloudEvents 1.0 (see
 * `cloudevents.ts`); both come to the same endpoint, so `parseEventGrid` tells them apart.
 *
 * - Event Grid schema: https://learn.microsoft.com/azure/event-grid/event-schema
 * - ACR events: https://learn.microsoft.com/azure/event-grid/event-schema-container-registry
 * - Subscription validation: https://learn.microsoft.com/azure/event-grid/webhook-event-delivery
 */
export const SUBSCRIPTION_VALIDATION_EVENT_TYPE = "Microsoft.EventGrid.SubscriptionValidationEvent";

export const eventGridEventSchema = z.object({
  id: eventIdSchema,
  topic: optionalText(boundedText(1024)),
  subject: optionalText(boundedText(1024)),
  eventType: boundedText(256).min(1, { error: "must not be empty" }),
  // Not kept: the registry's own time is `data.timestamp`.
  eventTime: optionalText(boundedText(64)),
  data: z.unknown(),
  dataVersion: optionalText(boundedText(64)),
  metadataVersion: optionalText(boundedText(64))
});

export const subscriptionValidationDataSchema = z.object({
  validationCode: z
    .string()
    .min(1, { error: "must not be empty" })
    .max(256, { error: "must be at most 256 characters" })
    .regex(/^[\x21-\x7e]+$/, { error: "expected printable characters without spaces" }),
  validationUrl: optionalText(boundedText(2048))
});

/**
 * Parses what arrives at the Event Grid endpoint. `contentType` is the request's Content-Type:
 * `application/cloudevents+json` is one CloudEvent, `application/cloudevents-batch+json` a batch;
 * `application/json` (or none) is an array of Event Grid schema events or of CloudEvents, told
 * apart by `specversion`, or one CloudEvent object. Other content types → `unsupported-media-type`.
 * Never throws.
 */
export function parseEventGrid(contentType: string | undefined, body: string, options?: ParseOptions): EventParseResult {
  const essence = contentTypeEssence(contentType);
  if (
    essence !== undefined &&
    essence !== "application/json" &&
    essence !== CLOUDEVENTS_CONTENT_TYPE &&
    essence !== CLOUDEVENTS_BATCH_CONTENT_TYPE
  ) {
    return {
      kind: "unsupported-media-type",
      reason: `Content-Type ${JSON.stringify(essence.slice(0, 100))} is not application/json, ${CLOUDEVENTS_CONTENT_TYPE} or ${CLOUDEVENTS_BATCH_CONTENT_TYPE}`
    };
  }
  const json = parseJsonBody(body);
  if (!json.ok) return json.error;
  const value = json.value;
  if (essence === CLOUDEVENTS_CONTENT_TYPE) return parseCloudEvent(value);
  if (essence === CLOUDEVENTS_BATCH_CONTENT_TYPE) return parseCloudEventBatch(value, options);
  if (isRecord(value)) {
    if ("specversion" in value) return parseCloudEvent(value);
    return invalid([], "expected a JSON array of Event Grid events");
  }
  if (!Array.isArray(value)) return invalid([], "expected a JSON array of Event Grid events");
  const items: readonly unknown[] = value;
  const cloudEvents = items.filter((e) => isRecord(e) && "specversion" in e).length;
  if (cloudEvents === 0) return parseEventGridSchema(items, options);
  if (cloudEvents === items.length) return parseCloudEventBatch(items, options);
  const odd = items.findIndex((e) => !(isRecord(e) && "specversion" in e));
  return invalid([odd], "mixes CloudEvents and Event Grid schema events in one array");
}

/**
 * An array of Event Grid schema events, already JSON-decoded. A subscription validation event
 * must come alone (Event Grid sends it so) and yields `subscription-validation`.
 */
export function parseEventGridSchema(value: unknown, options?: ParseOptions): ParsedEvents | InvalidBody | SubscriptionValidation {
  if (!Array.isArray(value)) return invalid([], "expected a JSON array of Event Grid events");
  const items: readonly unknown[] = value;
  const max = maxEventsOf(options);
  if (items.length > max) return invalid([], `holds ${items.length} events, more than the limit of ${max}`);
  const validationAt = items.findIndex((e) => isRecord(e) && e.eventType === SUBSCRIPTION_VALIDATION_EVENT_TYPE);
  if (validationAt >= 0) {
    if (items.length !== 1) return invalid([validationAt, "eventType"], "a subscription validation event must come alone");
    return subscriptionValidation(items[0]);
  }
  return collectEvents(items.length, (i) => convertEventGridEvent(items[i], [i]));
}

function convertEventGridEvent(value: unknown, path: readonly PropertyKey[]): EventConversion {
  if (!isRecord(value)) return invalid(path, "expected an Event Grid event object");
  const parsed = eventGridEventSchema.safeParse(value);
  if (!parsed.success) return invalidFromZod(path, parsed.error);
  return acrSystemEvent(parsed.data.eventType, parsed.data.data, [...path, "data"], "eventgrid", parsed.data.id);
}

function subscriptionValidation(value: unknown): SubscriptionValidation | InvalidBody {
  const envelope = eventGridEventSchema.safeParse(value);
  if (!envelope.success) return invalidFromZod([0], envelope.error);
  const data = subscriptionValidationDataSchema.safeParse(envelope.data.data);
  if (!data.success) return invalidFromZod([0, "data"], data.error);
  const { validationCode, validationUrl } = data.data;
  return {
    kind: "subscription-validation",
    validationCode,
    ...(validationUrl === undefined ? {} : { validationUrl }),
    response: { validationResponse: validationCode }
  };
}
