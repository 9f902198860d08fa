/**
 * Registry event parsers, one module per wire format, each normalising to `RegistryEvent`
 * (`shared/domain/registry-event.ts`). One entry point per webhook endpoint:
 *
 * | endpoint | entry point | formats |
 * | --- | --- | --- |
 * | `/api/webhooks/acr` | `parseAcrWebhook` | ACR webhooks |
 * | `/api/webhooks/eventgrid` | `parseEventGrid`, `cloudEventsWebhookHandshake` (OPTIONS) | Event Grid schema, CloudEvents 1.0 single and batch |
 * | `/api/webhooks/distribution` | `parseDistribution` | CNCF distribution notifications v1 and v2 |
 *
 * To add a source: a module with the wire schema and a `parse…` entry point returning
 * `EventParseResult`, a real-shaped example under `examples/`, tests beside it, and a line here.
 */
export { parseAcrWebhook, parseAcrWebhookValue, ACR_WEBHOOK_ACTIONS } from "./acr-webhook.js";
export { acrEventDataSchema, ACR_EVENT_TYPES } from "./acr-event-data.js";
export { parseEventGrid, parseEventGridSchema, eventGridEventSchema, SUBSCRIPTION_VALIDATION_EVENT_TYPE } from "./event-grid.js";
export {
  parseCloudEvent,
  parseCloudEventBatch,
  cloudEventSchema,
  cloudEventsWebhookHandshake,
  CLOUDEVENTS_CONTENT_TYPE,
  CLOUDEVENTS_BATCH_CONTENT_TYPE,
  EVENT_GRID_ORIGIN,
  type HeaderLookup,
  type WebhookHandshakeOptions,
  type WebhookHandshakeResult
} from "./cloudevents.js";
export {
  parseDistribution,
  parseDistributionValue,
  distributionEventSchema,
  DISTRIBUTION_EVENTS_V1,
  DISTRIBUTION_EVENTS_V2
} from "./distribution.js";
export {
  mediaTypeKind,
  isManifestMediaType,
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  type MediaTypeKind
} from "./media-types.js";
export {
  DEFAULT_MAX_EVENTS,
  type EventParseResult,
  type ParsedEvents,
  type IgnoredEvent,
  type InvalidBody,
  type UnsupportedMediaType,
  type SubscriptionValidation,
  type ParseOptions
} from "./result.js";
