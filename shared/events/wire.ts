import { z } from "zod";
import { REGISTRY_EVENT_LIMITS, registryHostSchema } from "../domain/registry-event.js";
import { mediaTypeKind } from "./media-types.js";
import { quote } from "./result.js";

/**
 * Field schemas shared by the wire formats: each accepts what registries actually send and yields
 * what `RegistryEvent` holds.
 */

/**
 * An optional field where `""` and `null` mean absent. Go encodes unset strings as `""` unless the
 * field is `omitempty`: distribution v3's target is an OCI descriptor whose `mediaType` and
 * `digest` are not, so a delete by tag arrives with `"digest": ""`. .NET serialisers write `null`.
 */
export function optionalText<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === "" || v === null ? undefined : v), schema.optional());
}

/** `request.host` as sent (an HTTP Host header): compared case-insensitively, so lowercased. */
export const wireHostSchema = z
  .string()
  .max(REGISTRY_EVENT_LIMITS.host, { error: `must be at most ${REGISTRY_EVENT_LIMITS.host} characters` })
  .transform((s) => s.toLowerCase())
  .pipe(registryHostSchema);

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 time with any fraction (ACR and Go send nanoseconds, .NET seven digits) and any
 * offset (distribution sends local time, `-08:00`), as UTC with milliseconds. Undefined for
 * anything else, including dates that do not exist (`2023-02-30`), which `Date.parse` would
 * silently roll over into March.
 */
export function normaliseTime(value: string): string | undefined {
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const [, date, time, fraction = "", zulu, sign, offH = "00", offM = "00"] = m;
  const local = `${date}T${time}.${fraction.padEnd(3, "0").slice(0, 3)}Z`;
  const t = Date.parse(local);
  if (Number.isNaN(t) || new Date(t).toISOString() !== local) return undefined;
  const offsetMinutes = zulu !== undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(offH) * 60 + Number(offM));
  if (Number(offH) > 23 || Number(offM) > 59) return undefined;
  const utc = new Date(t - offsetMinutes * 60_000).toISOString();
  // Offsets can push year 0000 or 9999 out of the four-digit range toISOString keeps.
  return /^\d{4}-/.test(utc) ? utc : undefined;
}

export const wireTimeSchema = z
  .string()
  .max(64, { error: "expected an RFC 3339 time" })
  .transform((s, ctx) => {
    const utc = normaliseTime(s);
    if (utc === undefined) {
      ctx.issues.push({ code: "custom", message: "expected an RFC 3339 time such as 2023-11-17T16:52:01.343145347Z", input: s });
      return z.NEVER;
    }
    return utc;
  });

/** A string we keep in no `RegistryEvent` field but bound all the same. */
export function boundedText(max: number) {
  return z.string().max(max, { error: `must be at most ${max} characters` });
}

/**
 * Why an event naming this media type is acknowledged but not acted on, or undefined when it names
 * a manifest or an index (or nothing: distribution deletes carry no media type, and the consumer
 * finds out what the digest was from its own record).
 */
export function nonManifestReason(mediaType: string | undefined, field: string): string | undefined {
  if (mediaType === undefined) return undefined;
  switch (mediaTypeKind(mediaType)) {
    case "manifest":
    case "index":
      return undefined;
    case "blob":
      return `blob event: ${field} ${quote(mediaType)} is not a manifest`;
    case "unknown":
      return `${field} ${quote(mediaType)} is not an image manifest or index`;
  }
}

/**
 * A manifest is never empty, so a size of 0 is Go's zero value for "not set" (distribution v3
 * sends `"size": 0` on deletes), not a size.
 */
export function manifestSize(size: number | null | undefined, length: number | null | undefined): number | undefined {
  const value = size ?? length;
  return value === null || value === undefined || value === 0 ? undefined : value;
}

/** The object without its undefined properties, so events compare and serialise cleanly. */
export function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
