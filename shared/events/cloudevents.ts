import { z } from "zod";
import { eventIdSchema } from "../domain/registry-event.js";
import { acrSystemEvent } from "./acr-event-data.js";
import {
  collectEvents,
  invalid,
  invalidFromZod,
  isRecord,
  maxEventsOf,
  type EventConversion,
  type InvalidBody,
  type ParsedEvents,
  type ParseOptions
} from "./result.js";
import { boundedText, optionalText } from "./wire.js";

/**
 * CloudEvents 1.0 in structured JSON mode, as Event Grid delivers it when a subscription uses the
 * CloudEvents schema: one event (`application/cloudevents+json`) or a batch, a JSON array
 * (`application/cloudevents-batch+json`). ACR's `data` is the same as in the Event Grid schema.
 *
 * - Spec: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md
 * - JSON format and batches: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md
 * - Event Grid: https://learn.microsoft.com/azure/event-grid/cloud-event-schema
 */
export const CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json";
export const CLOUDEVENTS_BATCH_CONTENT_TYPE = "application/cloudevents-batch+json";

export const cloudEventSchema = z.object({
  specversion: z.literal("1.0", { error: 'expected "1.0"' }),
  id: eventIdSchema,
  source: boundedText(1024).min(1, { error: "must not be empty" }),
  type: boundedText(256).min(1, { error: "must not be empty" }),
  subject: optionalText(boundedText(1024)),
  time: optionalText(boundedText(64)),
  datacontenttype: optionalText(boundedText(255)),
  dataschema: optionalText(boundedText(2048)),
  data: z.unknown().optional(),
  data_base64: z.string().optional()
});

/** Converts one CloudEvent at `path` (already JSON-decoded). */
export function convertCloudEvent(value: unknown, path: readonly PropertyKey[]): EventConversion {
  if (!isRecord(value)) return invalid(path, "expected a CloudEvent object");
  const parsed = cloudEventSchema.safeParse(value);
  if (!parsed.success) return invalidFromZod(path, parsed.error);
  const event = parsed.data;
  if (event.data === undefined && event.data_base64 !== undefined) {
    // ACR's data is JSON; Event Grid never base64-encodes system events.
    return invalid([...path, "data_base64"], "binary data is not supported: expected JSON in data");
  }
  return acrSystemEvent(event.type, event.data, [...path, "data"], "cloudevents", event.id);
}

/** One CloudEvent (`application/cloudevents+json`), already JSON-decoded. */
export function parseCloudEvent(value: unknown): ParsedEvents | InvalidBody {
  if (!isRecord(value)) return invalid([], `expected one CloudEvent object (${CLOUDEVENTS_CONTENT_TYPE})`);
  return collectEvents(1, () => convertCloudEvent(value, []));
}

/** A batch of CloudEvents (`application/cloudevents-batch+json`), already JSON-decoded. */
export function parseCloudEventBatch(value: unknown, options?: ParseOptions): ParsedEvents | InvalidBody {
  if (!Array.isArray(value)) return invalid([], `expected a JSON array of CloudEvents (${CLOUDEVENTS_BATCH_CONTENT_TYPE})`);
  const max = maxEventsOf(options);
  if (value.length > max) return invalid([], `holds ${value.length} events, more than the limit of ${max}`);
  const items: readonly unknown[] = value;
  return collectEvents(items.length, (i) => convertCloudEvent(items[i], [i]));
}

/** How `cloudEventsWebhookHandshake` reads request headers: `Headers` and `HttpRequest.headers` fit. */
export interface HeaderLookup {
  get(name: string): string | null;
}

export interface WebhookHandshakeOptions {
  /**
   * Origins (the `WebHook-Request-Origin` value, a DNS name) allowed to deliver, compared without
   * regard to case; `"*"` allows any. Defaults to Event Grid's, `eventgrid.azure.net`.
   */
  readonly allowedOrigins?: readonly string[];
  /** Requests per minute granted (a positive whole number), or `"*"` for no limit (the default). */
  readonly allowedRate?: number | "*";
}

export type WebhookHandshakeResult =
  | { readonly kind: "granted"; readonly status: 200; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: "refused"; readonly status: 400 | 403; readonly reason: string };

export const EVENT_GRID_ORIGIN = "eventgrid.azure.net";

const ORIGIN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;
const RATE = /^[1-9][0-9]{0,8}$/;

/**
 * The CloudEvents webhook abuse-protection handshake: the answer to the `OPTIONS` request a
 * sender (Event Grid with the CloudEvents schema) makes before delivering. Permission is granted
 * synchronously; `WebHook-Request-Callback` is not used (Event Grid does not need it).
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/http-webhook.md#4-abuse-protection
 *
 * Granted: 200 with `WebHook-Allowed-Origin` (the requested origin), `WebHook-Allowed-Rate` (the
 * requested rate capped by `allowedRate`, or `*`) and `Allow`. Refused: no grant headers (the
 * spec says a sender must not read consent into a status code), 400 for a missing or malformed
 * header, 403 for an origin not allowed.
 */
export function cloudEventsWebhookHandshake(headers: HeaderLookup, options: WebhookHandshakeOptions = {}): WebhookHandshakeResult {
  const origin = headers.get("WebHook-Request-Origin")?.trim();
  if (origin === undefined || origin === "") {
    return { kind: "refused", status: 400, reason: "WebHook-Request-Origin: the header is required" };
  }
  if (!ORIGIN.test(origin)) {
    return { kind: "refused", status: 400, reason: "WebHook-Request-Origin: expected a DNS name" };
  }
  const allowed = options.allowedOrigins ?? [EVENT_GRID_ORIGIN];
  if (!allowed.some((a) => a === "*" || a.toLowerCase() === origin.toLowerCase())) {
    return { kind: "refused", status: 403, reason: `WebHook-Request-Origin: origin ${JSON.stringify(origin)} is not allowed` };
  }
  const requested = headers.get("WebHook-Request-Rate")?.trim();
  if (requested !== undefined && requested !== "" && !RATE.test(requested)) {
    return { kind: "refused", status: 400, reason: "WebHook-Request-Rate: expected a positive whole number of requests per minute" };
  }
  const limit = options.allowedRate === undefined || options.allowedRate === "*" ? "*" : Math.max(1, Math.floor(options.allowedRate));
  const asked = requested === undefined || requested === "" ? undefined : Number(requested);
  let rate: string;
  if (limit === "*") rate = asked === undefined ? "*" : String(asked);
  else rate = String(asked === undefined ? limit : Math.min(asked, limit));
  return {
    kind: "granted",
    status: 200,
    headers: { "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": rate, Allow: "POST, OPTIONS" }
  };
}
