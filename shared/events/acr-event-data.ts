import { z } from "zod";
import { eventFromTarget } from "./target-event.js";
import {
  actorSchema,
  digestSchema,
  eventIdSchema,
  mediaTypeSchema,
  repositorySchema,
  sizeSchema,
  tagSchema,
  userAgentSchema,
  type RegistryEventSource
} from "../domain/registry-event.js";
import { ignored, invalidFromZod, quote, type EventConversion } from "./result.js";
import { boundedText, optionalText, wireHostSchema, wireTimeSchema } from "./wire.js";

/**
 * The ACR event payload. It is the whole body of an ACR webhook and the `data` of an Event Grid
 * (or CloudEvents) `Microsoft.ContainerRegistry.ImagePushed` / `ImageDeleted` event.
 *
 * - Webhooks: https://learn.microsoft.com/azure/container-registry/container-registry-webhook-reference
 * - Event Grid: https://learn.microsoft.com/azure/event-grid/event-schema-container-registry
 * - Fields Event Grid adds (`location`, `actor`, `source`, `connectedRegistry`):
 *   https://learn.microsoft.com/javascript/api/@azure/eventgrid-system-events/containerregistryimagepushedeventdata
 *
 * A push target has `mediaType`, `size`, `digest`, `length`, `repository`, `tag`; a delete target
 * only `mediaType`, `digest`, `repository`. Fields scanhook does not keep are bounded, not trusted.
 */
export const acrEventDataSchema = z.object({
  id: eventIdSchema,
  timestamp: wireTimeSchema,
  action: boundedText(64),
  location: optionalText(boundedText(64)),
  target: z.object({
    mediaType: optionalText(mediaTypeSchema),
    size: sizeSchema.nullish(),
    digest: optionalText(digestSchema),
    length: sizeSchema.nullish(),
    repository: repositorySchema,
    tag: optionalText(tagSchema),
    url: optionalText(boundedText(2048))
  }),
  request: z.object({
    id: optionalText(boundedText(256)),
    addr: optionalText(boundedText(256)),
    host: wireHostSchema,
    method: optionalText(boundedText(16)),
    useragent: optionalText(userAgentSchema)
  }),
  actor: z.object({ name: optionalText(actorSchema) }).nullish(),
  source: z.object({ addr: optionalText(boundedText(256)), instanceID: optionalText(boundedText(256)) }).nullish(),
  connectedRegistry: z.object({ name: optionalText(boundedText(256)) }).nullish()
});

export type AcrEventData = z.infer<typeof acrEventDataSchema>;

/**
 * Validates ACR event data found at `path` in the body and makes the `RegistryEvent` it reports.
 * `action` comes from the caller: the webhook's `action` or the Event Grid event type.
 */
export function acrEventFromData(
  value: unknown,
  action: "push" | "delete",
  source: RegistryEventSource,
  path: readonly PropertyKey[]
): EventConversion {
  const parsed = acrEventDataSchema.safeParse(value);
  if (!parsed.success) return invalidFromZod(path, parsed.error);
  return eventFromTarget(parsed.data, action, source, path);
}

/** The Event Grid event types of ACR (the same strings serve as CloudEvents `type`). */
export const ACR_EVENT_TYPES = {
  imagePushed: "Microsoft.ContainerRegistry.ImagePushed",
  imageDeleted: "Microsoft.ContainerRegistry.ImageDeleted",
  chartPushed: "Microsoft.ContainerRegistry.ChartPushed",
  chartDeleted: "Microsoft.ContainerRegistry.ChartDeleted"
} as const;

/** Converts one Event Grid or CloudEvents event by its type; types other than ACR's are ignored. */
export function acrSystemEvent(
  type: string,
  data: unknown,
  dataPath: readonly PropertyKey[],
  source: "eventgrid" | "cloudevents",
  envelopeId: string
): EventConversion {
  switch (type) {
    case ACR_EVENT_TYPES.imagePushed:
      return acrEventFromData(data, "push", source, dataPath);
    case ACR_EVENT_TYPES.imageDeleted:
      return acrEventFromData(data, "delete", source, dataPath);
    case ACR_EVENT_TYPES.chartPushed:
    case ACR_EVENT_TYPES.chartDeleted:
      return ignored(`${type}: a Helm chart event, not about an image`, envelopeId);
    default:
      return ignored(`event type ${quote(type)} is not handled`, envelopeId);
  }
}
