/**
 * The image record: one document per digest (DESIGN principle 1), the only place scanhook keeps
 * what it knows about an image. Every later feature writes into it, so its shape is defined once
 * here, as a schema, and the TypeScript types are derived from that schema (STYLE practice 9).
 *
 * Facts, not verdicts (principle 3): the record keeps the last complete result (where the SBOM is,
 * a compact findings index, coverage gaps, which DB matched it and when). The verdict stored here
 * is only a cache of policy applied to that result, with what it depended on.
 *
 * Scan state is not the result (principle 4): `scan` says where the current or last scan stands;
 * `result` is replaced only by a newer complete result, so a rescan never hides a verdict.
 *
 * Times are ISO-8601 UTC strings (`Date.prototype.toISOString()`), which sort correctly as strings
 * in both Cosmos DB and SQLite; that is what makes the recency queries work unchanged on both.
 */
import { z } from "zod";
import { isDigest, type Digest } from "./digest.js";
import { ScanhookError } from "./errors.js";

/** Bumped whenever a stored document needs migrating; a reader rejects versions it does not know. */
export const IMAGE_RECORD_SCHEMA_VERSION = 1;

const digest = z.custom<Digest>((v) => isDigest(v), { error: "expected a digest (sha256:<64 lowercase hex>)" });
const time = z.iso.datetime({ error: "expected an ISO-8601 UTC time" });
const nonEmpty = z.string().min(1);

/** The three answers a policy gives; `deny` is strictest. */
export const VerdictSchema = z.enum(["allow", "warn", "deny"]);
export type Verdict = z.infer<typeof VerdictSchema>;

export const SCAN_STATES = ["queued", "scanning", "done", "failed", "timeout", "skipped"] as const;
export const ScanStateSchema = z.enum(SCAN_STATES);
export type ScanState = z.infer<typeof ScanStateSchema>;

/** `index`: index + match (first scan, or an image never indexed); `reindex`: read the layers again. */
export const ScanRequestKindSchema = z.enum(["index", "reindex"]);
export type ScanRequestKind = z.infer<typeof ScanRequestKindSchema>;

/** `artifact` is anything that is not a runnable image (Helm chart, signature, SBOM attestation…). */
export const ImageKindSchema = z.enum(["image", "index", "artifact"]);
export type ImageKind = z.infer<typeof ImageKindSchema>;

export const SeveritySchema = z.enum(["critical", "high", "medium", "low", "negligible", "unknown"]);
export type Severity = z.infer<typeof SeveritySchema>;

/** Where the digest lives. The same digest can sit in many repositories of many registries. */
export const LocationSchema = z.object({
  /** Registry host as configured (`myacr.azurecr.io`, `127.0.0.1:5000`). */
  registry: nonEmpty,
  repository: nonEmpty,
  /** Every tag seen pointing at this digest here; a tag that moved on is kept (it was seen). */
  tags: z.array(nonEmpty),
  firstPushedAt: time.optional(),
  lastPushedAt: time.optional(),
  lastPulledAt: time.optional()
});
export type Location = z.infer<typeof LocationSchema>;

/** OCI image index `platform` (image-spec, image-index.md). */
export const PlatformSchema = z.object({
  os: nonEmpty,
  architecture: nonEmpty,
  variant: nonEmpty.optional(),
  osVersion: nonEmpty.optional()
});
export type Platform = z.infer<typeof PlatformSchema>;

export const LeaseSchema = z.object({ owner: nonEmpty, until: time });
export type Lease = z.infer<typeof LeaseSchema>;

export const ScanErrorSchema = z.object({
  /** A stable ScanhookError code, e.g. `REGISTRY.UNAUTHORIZED`. */
  code: nonEmpty,
  message: z.string(),
  at: time
});
export type ScanError = z.infer<typeof ScanErrorSchema>;

/** Where the scan of this digest stands. Never holds results: see `result`. */
export const ScanStatusSchema = z.object({
  state: ScanStateSchema,
  requestKind: ScanRequestKindSchema,
  /** Attempts of the current request; reset when a new request is queued. */
  attempts: z.int().nonnegative(),
  /** Who holds the scan and until when; a lease past `until` may be taken over. */
  lease: LeaseSchema.optional(),
  lastError: ScanErrorSchema.optional(),
  /** When `state` last changed. */
  updatedAt: time
});
export type ScanStatus = z.infer<typeof ScanStatusSchema>;

/**
 * One row of the compact findings index: exactly what any policy needs (DESIGN principle 3),
 * so a verdict never has to read the full report blob.
 */
export const FindingSchema = z.object({
  /** The advisory id as the matcher reports it (`CVE-2024-1234`, `GHSA-…`, `DSA-…`). */
  id: nonEmpty,
  aliases: z.array(nonEmpty),
  /** OSV `upstream`: ids of the upstream advisories this one derives from. */
  upstreamIds: z.array(nonEmpty),
  severity: SeveritySchema,
  /** CVSS base score 0–10 when one is known. */
  score: z.number().min(0).max(10).optional(),
  fixable: z.boolean(),
  packageName: nonEmpty,
  packageVersion: nonEmpty,
  purl: nonEmpty.optional(),
  /** OSV ecosystem name (`Debian:12`, `Alpine:v3.20`, `npm`, `PyPI`…). */
  ecosystem: nonEmpty,
  /** Source package for distribution packages (Debian `Source:`, RPM source RPM): Grype-style indirect matches. */
  sourcePackage: nonEmpty.optional(),
  fixedVersion: nonEmpty.optional(),
  /** Where `severity` came from: `cvss_v3:<id>`, `cvss_v4:<id>`, `rating:<id>`, `alias:<method>:<id>` or `none`. */
  severitySource: nonEmpty.optional(),
  /** Diff id of the layer that introduced the package, when the SBOM says. */
  layer: digest.optional()
});
export type Finding = z.infer<typeof FindingSchema>;

/** What could not be assessed, and why (principle 5): no findings is not the same as clean. */
export const CoverageGapSchema = z.object({
  /** e.g. `distro-unknown`, `distro-eol`, `ecosystem-no-data`, `binary-unreadable`. */
  kind: nonEmpty,
  detail: z.string(),
  /** How many packages (or files) the gap covers, when it is about a number of them. */
  count: z.int().nonnegative().optional()
});
export type CoverageGap = z.infer<typeof CoverageGapSchema>;

export const BlobRefSchema = z.object({
  /** Container-relative blob name, e.g. `sboms/sha256/<hex>.cdx.json`. */
  blob: nonEmpty,
  mediaType: nonEmpty,
  size: z.int().nonnegative().optional(),
  sha256: z.string().regex(/^[a-f0-9]{64}$/).optional()
});
export type BlobRef = z.infer<typeof BlobRefSchema>;

/** The last complete result: the index (SBOM, packages) and its latest match against the DB. */
export const ScanResultSchema = z.object({
  /** Analyzer name → version, persisted so stale results are found, not guessed (STYLE practice 4). */
  analyzers: z.record(nonEmpty, nonEmpty),
  sbom: BlobRefSchema,
  /** Ecosystem → number of packages found. */
  packageCounts: z.record(nonEmpty, z.int().nonnegative()),
  findings: z.array(FindingSchema),
  coverageGaps: z.array(CoverageGapSchema),
  indexedAt: time,
  /** Version of the vulnerability DB the findings were matched against. */
  dbVersion: nonEmpty,
  matchedAt: time
});
export type ScanResult = z.infer<typeof ScanResultSchema>;

export const LocationVerdictSchema = z.object({
  registry: nonEmpty,
  repository: nonEmpty,
  verdict: VerdictSchema
});
export type LocationVerdict = z.infer<typeof LocationVerdictSchema>;

/**
 * A cached verdict. Valid only while the policy version and the match it used are still the
 * record's, and until `validUntil` (an exemption expiring, the match growing too old).
 */
export const CachedVerdictSchema = z.object({
  /** The strictest over `locations`. */
  overall: VerdictSchema,
  locations: z.array(LocationVerdictSchema),
  policyVersion: nonEmpty,
  /**
   * The match it used: the result's `dbVersion` and `matchedAt`. Absent when there is no result
   * (a failed or timed-out first scan, judged by the policy's answer for those).
   */
  match: z.object({ dbVersion: nonEmpty, matchedAt: time }).optional(),
  computedAt: time,
  /** Absent: valid until the policy or the match changes. */
  validUntil: time.optional()
});
export type CachedVerdict = z.infer<typeof CachedVerdictSchema>;

/** What the manifest said, recorded once when it is first fetched (a digest's bytes never change). */
export const ManifestFactsSchema = z.object({
  /** Size of the manifest in bytes. */
  size: z.int().nonnegative(),
  configDigest: digest.optional(),
  configMediaType: nonEmpty.optional(),
  artifactType: nonEmpty.optional(),
  layers: z.array(z.object({ digest, size: z.int().nonnegative(), mediaType: nonEmpty })),
  fetchedAt: time
});
export type ManifestFactsRecord = z.infer<typeof ManifestFactsSchema>;

/**
 * One platform manifest of an index as the index's record sees it: its scan state and, once it has
 * one, the index facts of its result (the SBOM and package counts). Findings and the match stay on
 * the platform's own record, where a rematch changes them; the verdict of an index reads them there.
 */
export const PlatformResultSchema = z.object({
  digest,
  platform: PlatformSchema.optional(),
  state: ScanStateSchema,
  /** The platform's `scan.updatedAt`: an entry is only ever replaced by a newer one. */
  updatedAt: time,
  lastError: ScanErrorSchema.optional(),
  result: z.object({ sbom: BlobRefSchema, packageCounts: z.record(nonEmpty, z.int().nonnegative()), indexedAt: time }).optional()
});
export type PlatformResult = z.infer<typeof PlatformResultSchema>;

/**
 * An index's result is the set of its platforms' (issue 7): one entry per recorded child, in
 * `childDigests` order. `complete` once every child is recorded and each has a result or was
 * skipped (an attestation, a platform outside `SCAN_PLATFORMS`); a failed platform keeps it false.
 */
export const IndexResultSchema = z.object({
  platforms: z.array(PlatformResultSchema),
  complete: z.boolean(),
  updatedAt: time
});
export type IndexResult = z.infer<typeof IndexResultSchema>;

export const ImageRecordSchema = z
  .object({
    /** The digest. Also the Cosmos DB partition key, so reading a verdict is a point read. */
    id: digest,
    schemaVersion: z.literal(IMAGE_RECORD_SCHEMA_VERSION),
    /** Manifest media type as served by the registry; unknown until the manifest is fetched. */
    mediaType: nonEmpty.optional(),
    /** Unknown until the manifest is fetched. */
    kind: ImageKindSchema.optional(),
    /** Why an artifact is not scanned (required when `kind` is `artifact`). */
    skipReason: nonEmpty.optional(),
    /** Config and layers of an image (or artifact) manifest; unknown until the manifest is fetched. */
    manifest: ManifestFactsSchema.optional(),
    locations: z.array(LocationSchema),
    /** `registry/repository` of every location, kept in step with `locations` for array-contains queries. */
    locationKeys: z.array(nonEmpty),
    /** For an index: its platform manifests, each a record of its own. */
    childDigests: z.array(digest).optional(),
    /** For an index: its platforms' scan states and results, kept by the scanner as they change. */
    platformResults: IndexResultSchema.optional(),
    /** For a platform manifest: its platform, and the indexes that list it. */
    platform: PlatformSchema.optional(),
    parentDigests: z.array(digest).optional(),
    scan: ScanStatusSchema,
    result: ScanResultSchema.optional(),
    verdict: CachedVerdictSchema.optional(),
    firstSeenAt: time,
    lastPushedAt: time.optional(),
    lastPulledAt: time.optional(),
    lastScannedAt: time.optional(),
    deleted: z.boolean(),
    deletedAt: time.optional()
  })
  .superRefine((r, ctx) => {
    if (r.kind === "artifact" && r.skipReason === undefined) {
      ctx.addIssue({ code: "custom", path: ["skipReason"], message: "an artifact needs a skipReason" });
    }
    const expected = locationKeysOf(r.locations);
    if (expected.length !== r.locationKeys.length || expected.some((k, i) => r.locationKeys[i] !== k)) {
      ctx.addIssue({ code: "custom", path: ["locationKeys"], message: "locationKeys do not match locations" });
    }
  });
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

/** The key of a location in `locationKeys`: `registry/repository`. */
export function locationKey(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}

function locationKeysOf(locations: readonly Location[]): string[] {
  return [...new Set(locations.map((l) => locationKey(l.registry, l.repository)))];
}

/** A record for a digest seen for the first time: queued for indexing, no location yet. */
export function newImageRecord(id: Digest, now: Date): ImageRecord {
  const at = now.toISOString();
  return {
    id,
    schemaVersion: IMAGE_RECORD_SCHEMA_VERSION,
    locations: [],
    locationKeys: [],
    scan: { state: "queued", requestKind: "index", attempts: 0, updatedAt: at },
    firstSeenAt: at,
    deleted: false
  };
}

export interface LocationSighting {
  registry: string;
  repository: string;
  tag?: string;
  pushedAt?: Date;
  pulledAt?: Date;
}

/**
 * Returns a copy of the record with the sighting merged into its locations (a new location, a new
 * tag, later push/pull times) and `locationKeys`, `lastPushedAt`, `lastPulledAt` kept in step.
 * Times only move forward: an event delivered late does not roll a time back.
 */
export function withLocation(record: ImageRecord, sighting: LocationSighting): ImageRecord {
  const pushed = sighting.pushedAt?.toISOString();
  const pulled = sighting.pulledAt?.toISOString();
  const locations = record.locations.map((l) => ({ ...l, tags: [...l.tags] }));
  let loc = locations.find((l) => l.registry === sighting.registry && l.repository === sighting.repository);
  if (loc === undefined) {
    loc = { registry: sighting.registry, repository: sighting.repository, tags: [] };
    locations.push(loc);
  }
  if (sighting.tag !== undefined && !loc.tags.includes(sighting.tag)) loc.tags.push(sighting.tag);
  if (pushed !== undefined) {
    loc.firstPushedAt = earliest(loc.firstPushedAt, pushed);
    loc.lastPushedAt = latest(loc.lastPushedAt, pushed);
  }
  if (pulled !== undefined) loc.lastPulledAt = latest(loc.lastPulledAt, pulled);
  const next: ImageRecord = { ...record, locations, locationKeys: locationKeysOf(locations) };
  if (pushed !== undefined) next.lastPushedAt = latest(record.lastPushedAt, pushed);
  if (pulled !== undefined) next.lastPulledAt = latest(record.lastPulledAt, pulled);
  return next;
}

function latest(a: string | undefined, b: string): string {
  return a === undefined || b > a ? b : a;
}
function earliest(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a;
}

/**
 * Validates a document read back from the store (or about to be written). Returns the typed
 * record; throws ScanhookError `STORE.INVALID_DOCUMENT` naming the digest and the first bad field.
 */
export function parseImageRecord(doc: unknown): ImageRecord {
  const parsed = ImageRecordSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? "(document)" : issue.path.map(String).join(".");
  const id =
    typeof doc === "object" && doc !== null && "id" in doc && typeof doc.id === "string" ? doc.id : "(no id)";
  throw new ScanhookError(
    "STORE.INVALID_DOCUMENT",
    `image record ${id} is invalid at ${field}: ${issue?.message ?? "invalid"}`,
    { meta: { id, field } }
  );
}
