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
  userAgentSchema
} from "../domain/registry-event.js";
import {
  collectEvents,
  contentTypeEssence,
  idOf,
  ignored,
  invalid,
  invalidFromZod,
  isRecord,
  maxEventsOf,
  parseJsonBody,
  quote,
  type EventConversion,
  type InvalidBody,
  type ParsedEvents,
  type ParseOptions,
  type UnsupportedMediaType
} from "./result.js";
import { boundedText, optionalText, wireHostSchema, wireTimeSchema } from "./wire.js";

/**
 * CNCF distribution notifications (`POST /api/webhooks/distribution`): an envelope
 * `{ "events": [...] }` of unrelated events, sent by distribution 2.x as
 * `application/vnd.docker.distribution.events.v1+json` and by 3.x as `…events.v2+json` (the v3
 * target is a full OCI descriptor and may add `references`).
 * - https://distribution.github.io/distribution/about/notifications/
 * - https://github.com/distribution/distribution/blob/main/notifications/event.go
 *
 * Observed with Debian's docker-registry 2.8.2 (wire-formats.md): one event per POST; blob events
 * (layers and configs) carry `target.mediaType: application/octet-stream`; `pull` fires for HEAD
 * and GET, even when the GET answered 404; deleting a manifest sends `{digest, repository}` plus
 * one `{repository, tag}` per tag that pointed at it, without mediaType, size or url.
 *
 * - `push`, `pull` of a manifest or index → push, pull; of a blob → ignored.
 * - `delete` → delete, with a digest, or with only a tag (a delete by tag). A blob delete looks
 *   exactly like a manifest delete by digest (`{digest, repository}`); the consumer finds no
 *   record for a blob digest and so does nothing.
 * - `mount` (a cross-repository blob mount) and unknown actions → ignored.
 */
export const DISTRIBUTION_EVENTS_V1 = "application/vnd.docker.distribution.events.v1+json";
export const DISTRIBUTION_EVENTS_V2 = "application/vnd.docker.distribution.events.v2+json";

export const distributionEventSchema = z.object({
  id: eventIdSchema,
  timestamp: wireTimeSchema,
  action: boundedText(64),
  target: z.object({
    mediaType: optionalText(mediaTypeSchema),
    digest: optionalText(digestSchema),
    size: sizeSchema.nullish(),
    length: sizeSchema.nullish(),
    repository: repositorySchema,
    fromRepository: optionalText(repositorySchema),
    url: optionalText(boundedText(2048)),
    tag: optionalText(tagSchema)
  }),
  request: z.object({
    id: optionalText(boundedText(256)),
    addr: optionalText(boundedText(256)),
    host: wireHostSchema,
    method: optionalText(boundedText(16)),
    useragent: optionalText(userAgentSchema)
  }),
  // `{}` without registry auth, `{"name": "<user>"}` with it (observed).
  actor: z.object({ name: optionalText(actorSchema) }).nullish(),
  source: z.object({ addr: optionalText(boundedText(256)), instanceID: optionalText(boundedText(256)) }).nullish()
});

const envelopeSchema = z.object({
  // distribution v3 marks `events` omitempty: an empty envelope is `{}`.
  events: z.array(z.unknown(), { error: "expected an array of events" }).nullish()
});

const actionSchema = z.object({ action: boundedText(64) });

/**
 * Parses a distribution notification envelope. `contentType` may be either events media type,
 * `application/json` or absent; anything else → `unsupported-media-type`. Never throws.
 */
export function parseDistribution(
  contentType: string | undefined,
  body: string,
  options?: ParseOptions
): ParsedEvents | InvalidBody | UnsupportedMediaType {
  const essence = contentTypeEssence(contentType);
  if (essence !== undefined && essence !== DISTRIBUTION_EVENTS_V1 && essence !== DISTRIBUTION_EVENTS_V2 && essence !== "application/json") {
    return {
      kind: "unsupported-media-type",
      reason: `Content-Type ${JSON.stringify(essence.slice(0, 100))} is not ${DISTRIBUTION_EVENTS_V1}, ${DISTRIBUTION_EVENTS_V2} or application/json`
    };
  }
  const json = parseJsonBody(body);
  return json.ok ? parseDistributionValue(json.value, options) : json.error;
}

/** Parses a distribution envelope that is already JSON-decoded. Never throws. */
export function parseDistributionValue(value: unknown, options?: ParseOptions): ParsedEvents | InvalidBody {
  if (!isRecord(value)) return invalid([], "expected a JSON object with an events array");
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) return invalidFromZod([], envelope.error);
  const items: readonly unknown[] = envelope.data.events ?? [];
  const max = maxEventsOf(options);
  if (items.length > max) return invalid(["events"], `holds ${items.length} events, more than the limit of ${max}`);
  return collectEvents(items.length, (i) => convertDistributionEvent(items[i], ["events", i]));
}

function convertDistributionEvent(value: unknown, path: readonly PropertyKey[]): EventConversion {
  if (!isRecord(value)) return invalid(path, "expected an event object");
  const head = actionSchema.safeParse(value);
  if (!head.success) return invalidFromZod(path, head.error);
  const action = head.data.action;
  if (action === "mount") return ignored("mount: a cross-repository blob mount, not a manifest", idOf(value.id));
  if (action !== "push" && action !== "pull" && action !== "delete") {
    return ignored(`action ${quote(action)} is not handled`, idOf(value.id));
  }
  const parsed = distributionEventSchema.safeParse(value);
  if (!parsed.success) return invalidFromZod(path, parsed.error);
  return eventFromTarget(parsed.data, action, "distribution", path);
}
