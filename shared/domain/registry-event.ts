import { z } from "zod";
import { isDigest, type Digest } from "./digest.js";

/**
 * One registry event, whatever format it arrived in: an ACR webhook, an Event Grid event (Event
 * Grid schema or CloudEvents 1.0) or a CNCF distribution notification. The parsers in
 * `shared/events/` produce it; the webhook functions enqueue it; the consumer acts on it.
 *
 * Invariants the schema enforces (so a queue message read back is as trustworthy as a fresh parse):
 * - `push` and `pull` always name a digest: a manifest was written or read, and it has one.
 * - `delete` names a digest, a tag, or both: distribution sends a delete by tag without a digest.
 * - the registry host is lowercase (hosts are case-insensitive and are compared with `REGISTRIES`).
 * - `time` is UTC with millisecond precision (the wire carries up to nanoseconds and any offset).
 */

/** Upper bounds on every string a registry event carries; a longer value is rejected, not cut. */
export const REGISTRY_EVENT_LIMITS = {
  /** A DNS name (253) plus `:65535`. */
  host: 261,
  /** distribution limits the whole repository name to 255 characters. */
  repository: 255,
  /** The OCI distribution spec's tag grammar allows at most 128 characters. */
  tag: 128,
  /** RFC 6838 allows 127 characters on each side of the slash. */
  mediaType: 255,
  eventId: 256,
  userAgent: 2048,
  actor: 256
} as const;

export const REGISTRY_EVENT_ACTIONS = ["push", "delete", "pull"] as const;
export type RegistryEventAction = (typeof REGISTRY_EVENT_ACTIONS)[number];

export const REGISTRY_EVENT_SOURCES = ["acr", "eventgrid", "cloudevents", "distribution"] as const;
export type RegistryEventSource = (typeof REGISTRY_EVENT_SOURCES)[number];

// Hostname labels allow `_` because Docker Compose and Kubernetes service names reach registries
// that way (`my_registry:5000`); IPv6 literals come bracketed as in an HTTP Host header.
const HOST = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?$/;
// OCI distribution spec, "Pulling manifests": <name> path components.
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// RFC 6838 restricted names, with optional parameters (`; charset=utf-8`) kept verbatim.
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:\s*;[\x20-\x7e]*)?$/;
const UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Printable text only: these values end up in logs and on dashboards.
const PRINTABLE = /^[^\p{Cc}]*$/u;

export const registryHostSchema = z
  .string()
  .min(1, { error: "must not be empty" })
  .max(REGISTRY_EVENT_LIMITS.host, { error: `must be at most ${REGISTRY_EVENT_LIMITS.host} characters` })
  .regex(HOST, { error: "expected a lowercase registry host, with an optional port" });

export const repositorySchema = z
  .string()
  .min(1, { error: "must not be empty" })
  .max(REGISTRY_EVENT_LIMITS.repository, { error: `must be at most ${REGISTRY_EVENT_LIMITS.repository} characters` })
  .regex(REPOSITORY, { error: "expected a repository name as the OCI distribution spec defines it" });

export const tagSchema = z.string().regex(TAG, { error: "expected a tag of at most 128 characters [A-Za-z0-9_.-], not starting with . or -" });

export const digestSchema = z.custom<Digest>(isDigest, { error: "expected a lowercase sha256:<64 hex> or sha512:<128 hex> digest" });

export const mediaTypeSchema = z
  .string()
  .max(REGISTRY_EVENT_LIMITS.mediaType, { error: `must be at most ${REGISTRY_EVENT_LIMITS.mediaType} characters` })
  .regex(MEDIA_TYPE, { error: "expected a media type type/subtype" });

export const eventTimeSchema = z
  .string()
  .regex(UTC_MILLIS, { error: "expected an RFC 3339 UTC time with milliseconds" })
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: "is not a valid date" });

export const eventIdSchema = z
  .string()
  .min(1, { error: "must not be empty" })
  .max(REGISTRY_EVENT_LIMITS.eventId, { error: `must be at most ${REGISTRY_EVENT_LIMITS.eventId} characters` })
  .regex(PRINTABLE, { error: "must not contain control characters" });

export const userAgentSchema = z
  .string()
  .max(REGISTRY_EVENT_LIMITS.userAgent, { error: `must be at most ${REGISTRY_EVENT_LIMITS.userAgent} characters` })
  .regex(PRINTABLE, { error: "must not contain control characters" });

export const actorSchema = z
  .string()
  .min(1, { error: "must not be empty" })
  .max(REGISTRY_EVENT_LIMITS.actor, { error: `must be at most ${REGISTRY_EVENT_LIMITS.actor} characters` })
  .regex(PRINTABLE, { error: "must not contain control characters" });

export const sizeSchema = z
  .number({ error: "expected a number of bytes" })
  .int({ error: "expected a whole number of bytes" })
  .nonnegative({ error: "must not be negative" })
  .max(Number.MAX_SAFE_INTEGER, { error: "is too large" });

export const registryEventSchema = z
  .object({
    action: z.enum(REGISTRY_EVENT_ACTIONS),
    /** The registry's host as the event's `request.host` names it, lowercase, port kept. */
    registry: registryHostSchema,
    repository: repositorySchema,
    tag: tagSchema.optional(),
    digest: digestSchema.optional(),
    /** The manifest's media type; absent only where the wire omits it (distribution deletes). */
    mediaType: mediaTypeSchema.optional(),
    /** When the registry says the event happened (not when it was delivered). */
    time: eventTimeSchema,
    source: z.enum(REGISTRY_EVENT_SOURCES),
    /** The registry's own event id; the same across redeliveries of one event. */
    eventId: eventIdSchema,
    userAgent: userAgentSchema.optional(),
    /** The account that made the request, where the format says (Event Grid, distribution). */
    actor: actorSchema.optional(),
    /** The manifest's size in bytes, where the format says. */
    size: sizeSchema.optional()
  })
  .refine((e) => e.action === "delete" || e.digest !== undefined, {
    error: "push and pull events must name a digest",
    path: ["digest"]
  })
  .refine((e) => e.digest !== undefined || e.tag !== undefined, {
    error: "a delete must name a digest or a tag",
    path: ["digest"]
  });

export type RegistryEvent = z.infer<typeof registryEventSchema>;

/**
 * A key for the change an event reports, not for its delivery: action, registry, repository, tag
 * and digest, written as an image reference (`push|host/repo:tag@sha256:…`). Redeliveries, and the
 * same push reported by both an ACR webhook and Event Grid, share it; event id, time, source and
 * user agent are left out on purpose. How long two equal keys count as one is the caller's choice
 * (a pull an hour later is a new pull). The key is at most about 800 characters and may contain
 * `/`: hash it where an id must be short or slash-free (Cosmos DB ids).
 */
export function registryEventDedupeKey(event: RegistryEvent): string {
  const tag = event.tag === undefined ? "" : `:${event.tag}`;
  const digest = event.digest === undefined ? "" : `@${event.digest}`;
  return `${event.action}|${event.registry}/${event.repository}${tag}${digest}`;
}

/** The product token scanhook puts first in the User-Agent of every request it makes. */
export const SCANHOOK_USER_AGENT_PRODUCT = "scanhook";

/**
 * True for a pull that scanhook itself caused: its user agent carries the `scanhook/<version>`
 * product token, or the actor is one of the accounts scanhook pulls with. Such pulls must not count
 * as use, or every rescan would keep every image "recently pulled" for ever.
 */
export function isOwnPull(event: RegistryEvent, ownAccounts: readonly string[] = []): boolean {
  if (event.action !== "pull") return false;
  const ua = event.userAgent?.toLowerCase() ?? "";
  const token = `${SCANHOOK_USER_AGENT_PRODUCT}/`;
  if (ua.startsWith(token) || ua.includes(` ${token}`)) return true;
  return event.actor !== undefined && ownAccounts.includes(event.actor);
}
