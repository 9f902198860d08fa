import type { z } from "zod";
import type { RegistryEvent } from "../domain/registry-event.js";

/**
 * What every parser in `shared/events/` returns: a value, never a throw, whatever the body.
 * The webhook function maps it: `events` → enqueue then 200; `invalid` → 400 with `reason`;
 * `unsupported-media-type` → 415; `subscription-validation` → 200 with `response` as the body.
 */
export type EventParseResult = ParsedEvents | InvalidBody | UnsupportedMediaType | SubscriptionValidation;

/** An event acknowledged without being acted on (a ping, a chart, a blob, an unknown type). */
export interface IgnoredEvent {
  readonly reason: string;
  readonly eventId?: string;
}

/** The body was understood. Either list may be empty: a ping yields no events and one ignored. */
export interface ParsedEvents {
  readonly kind: "events";
  readonly events: RegistryEvent[];
  readonly ignored: IgnoredEvent[];
}

/**
 * The body is malformed: `field` is the path of the first offending field in the body
 * (`events[0].target.digest`, `body` for the body as a whole) and `reason` starts with it.
 * Safe to return to the sender: it never echoes more than a short quoted excerpt of a value.
 */
export interface InvalidBody {
  readonly kind: "invalid";
  readonly field: string;
  readonly reason: string;
}

export interface UnsupportedMediaType {
  readonly kind: "unsupported-media-type";
  readonly reason: string;
}

/**
 * Event Grid's subscription validation handshake (Event Grid schema only): answer 200 with
 * `response` as the JSON body within 30 s (202 is not accepted).
 * https://learn.microsoft.com/azure/event-grid/webhook-event-delivery
 */
export interface SubscriptionValidation {
  readonly kind: "subscription-validation";
  readonly validationCode: string;
  /** For the asynchronous alternative: a GET on it within 5 minutes also validates. */
  readonly validationUrl?: string;
  readonly response: { readonly validationResponse: string };
}

/** One event of an envelope, converted: a `RegistryEvent`, an ignored event, or why the body is bad. */
export type EventConversion =
  | { readonly kind: "event"; readonly event: RegistryEvent }
  | { readonly kind: "ignored"; readonly ignored: IgnoredEvent }
  | InvalidBody;

export function ignored(reason: string, eventId: string | undefined): { kind: "ignored"; ignored: IgnoredEvent } {
  return { kind: "ignored", ignored: eventId === undefined ? { reason } : { reason, eventId } };
}

/**
 * Converts the `count` events of an envelope in order. The first invalid one makes the whole body
 * invalid: the sender must fix and resend it (Event Grid dead-letters a 400 whole, distribution
 * retries it), and a body accepted in part could not say which part was lost.
 */
export function collectEvents(count: number, convertAt: (index: number) => EventConversion): ParsedEvents | InvalidBody {
  const events: RegistryEvent[] = [];
  const ignoredEvents: IgnoredEvent[] = [];
  for (let i = 0; i < count; i++) {
    const converted = convertAt(i);
    if (converted.kind === "invalid") return converted;
    if (converted.kind === "event") events.push(converted.event);
    else ignoredEvents.push(converted.ignored);
  }
  return { kind: "events", events, ignored: ignoredEvents };
}

export interface ParseOptions {
  /** The most events one envelope (Event Grid array, CloudEvents batch, `events`) may hold. */
  readonly maxEvents?: number;
}

/**
 * Event Grid caps a batch at 1 MB (`preferredBatchSizeInKilobytes` ≤ 1024); an ACR event is about
 * 1 KB, so a legitimate envelope holds at most about a thousand of them.
 */
export const DEFAULT_MAX_EVENTS = 1000;

export function maxEventsOf(options: ParseOptions | undefined): number {
  const max = options?.maxEvents ?? DEFAULT_MAX_EVENTS;
  return Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_EVENTS;
}

export function invalid(path: readonly PropertyKey[], message: string): InvalidBody {
  const field = formatPath(path);
  return { kind: "invalid", field, reason: `${field}: ${message}` };
}

/** The first issue of a zod error, its path prefixed with where the parsed value sits in the body. */
export function invalidFromZod(prefix: readonly PropertyKey[], error: z.ZodError): InvalidBody {
  const issue = error.issues[0];
  if (issue === undefined) return invalid(prefix, "is invalid");
  // zod says "Invalid input: expected string, received undefined" for a missing field.
  const message =
    issue.code === "invalid_type" && issue.message.endsWith("received undefined") ? "is required" : issue.message;
  return invalid([...prefix, ...issue.path], message);
}

/** `["events", 0, "target"]` → `events[0].target`; `[0, "data"]` → `[0].data`; `[]` → `body`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "body" : out;
}

/** A value quoted for a reason or a log line: JSON-escaped and cut short. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** Parses the body text as JSON; a body that is not JSON is an `invalid` result, not a throw. */
export function parseJsonBody(text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: InvalidBody } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: invalid([], "is not valid JSON") };
  }
}

/** The media type without parameters, lowercase; undefined for an absent or blank header. */
export function contentTypeEssence(contentType: string | undefined): string | undefined {
  const essence = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  return essence === undefined || essence === "" ? undefined : essence;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string field's value if it is a short printable string, for ids of events that are ignored. */
export function idOf(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 256 && !/\p{Cc}/u.test(value) ? value : undefined;
}
