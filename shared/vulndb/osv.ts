/**
 * The OSV record as scanhook reads it, one schema at the edge (DESIGN principle 8): the OSV schema
 * 1.7 (https://ossf.github.io/osv-schema/, validation/schema.json in ossf/osv-schema). Fields the
 * matcher never reads (`credits`, `details`, `database_specific` beyond severity) are kept loosely
 * typed. It enforces the structural rules the matcher relies on (one key per event, an `introduced`
 * in every range, `fixed` xor `last_affected`, `repo` on GIT ranges, RFC 3339 times); the ingest test
 * checks its fixtures against the published JSON schema as well.
 */
import { z } from "zod";

const text = z.string().min(1);
/** RFC 3339 time as OSV writes it (`2024-01-02T03:04:05Z`, fractions allowed). */
const time = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i, "expected an RFC 3339 time");
const loose = z.record(z.string(), z.unknown());

/** https://ossf.github.io/osv-schema/#severity-field */
export const OsvSeveritySchema = z.object({
  type: z.enum(["CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"]),
  score: text
});
export type OsvSeverity = z.infer<typeof OsvSeveritySchema>;

/** One event: exactly one of the four keys (https://ossf.github.io/osv-schema/#affectedrangesevents-fields). */
const EventSchema = z
  .object({ introduced: text.optional(), fixed: text.optional(), last_affected: text.optional(), limit: text.optional() })
  .refine((e) => [e.introduced, e.fixed, e.last_affected, e.limit].filter((v) => v !== undefined).length === 1, { message: "an event has exactly one of introduced, fixed, last_affected, limit" });

const RangeSchema = z
  .object({
    type: z.enum(["GIT", "SEMVER", "ECOSYSTEM"]),
    repo: text.optional(),
    events: z.array(EventSchema).min(1),
    database_specific: loose.optional()
  })
  .superRefine((r, ctx) => {
    if (r.type === "GIT" && r.repo === undefined) ctx.addIssue({ code: "custom", path: ["repo"], message: "a GIT range needs repo" });
    if (!r.events.some((e) => e.introduced !== undefined)) ctx.addIssue({ code: "custom", path: ["events"], message: "a range needs an introduced event" });
    if (r.events.some((e) => e.fixed !== undefined) && r.events.some((e) => e.last_affected !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["events"], message: "fixed and last_affected must not both appear in one range" });
    }
  });

const AffectedSchema = z.object({
  package: z.object({ ecosystem: text, name: text, purl: text.optional() }).optional(),
  severity: z.array(OsvSeveritySchema).optional(),
  ranges: z.array(RangeSchema).optional(),
  versions: z.array(z.string()).optional(),
  ecosystem_specific: loose.optional(),
  database_specific: loose.optional()
});
export type OsvAffected = z.infer<typeof AffectedSchema>;

export const OsvRecordSchema = z
  .object({
    schema_version: z.string().optional(),
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "expected an OSV id (`PREFIX-…`)").max(256),
    modified: time,
    published: time.optional(),
    withdrawn: time.optional(),
    // The published schema allows null here.
    aliases: z.array(text).nullish(),
    related: z.array(text).nullish(),
    upstream: z.array(text).optional(),
    summary: z.string().optional(),
    details: z.string().optional(),
    severity: z.array(OsvSeveritySchema).optional(),
    affected: z.array(AffectedSchema).optional(),
    references: z.array(z.object({ type: text, url: text })).nullish(),
    credits: z.array(z.unknown()).optional(),
    database_specific: loose.optional()
  })
  .superRefine((r, ctx) => {
    // The schema forbids top-level severity when any affected entry carries its own.
    if (r.severity !== undefined && (r.affected ?? []).some((a) => a.severity !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["severity"], message: "top-level severity must not be set when an affected entry has one" });
    }
  });
export type OsvRecord = z.infer<typeof OsvRecordSchema>;

export type OsvParse = { readonly ok: true; readonly record: OsvRecord } | { readonly ok: false; readonly reason: string };

/** Validates one decoded record; the reason names the first bad field. Never throws. */
export function parseOsvRecord(value: unknown): OsvParse {
  const parsed = OsvRecordSchema.safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data };
  const issue = parsed.error.issues[0];
  const at = issue === undefined || issue.path.length === 0 ? "(record)" : issue.path.map(String).join(".");
  return { ok: false, reason: `${at}: ${issue?.message ?? "invalid"}` };
}

/** Parses JSON text then validates it; bad JSON is a reason like any other. */
export function parseOsvText(text: string): OsvParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  return parseOsvRecord(value);
}
