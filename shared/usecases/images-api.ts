/**
 * The images API's questions (issue 10): lists by location, scan state, cached verdict and pull
 * recency, paged by continuation token; one record; its findings; its SBOM and report blobs; a
 * rescan. Reads never count as pulls: nothing here writes a record.
 */
import type { BlobStore } from "../blobs/blobs.js";
import { BLOB_CONTAINERS } from "../blobs/blobs.js";
import type { Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";
import type { ImageRecord, ScanState, Severity, Verdict } from "../domain/image-record.js";
import { SeveritySchema } from "../domain/image-record.js";
import type { Policy } from "../domain/policy.js";
import { isCachedVerdictCurrent, platformName } from "../domain/verdict.js";
import type { QueueSender } from "../queues/queues.js";
import { listImages, type ImageListFilter } from "../store/image-queries.js";
import type { Container } from "../store/port.js";
import { requestScan } from "./record-events.js";
import type { CycloneDxBom } from "../scanner/sbom/cyclonedx.js";
import { SPDX_MEDIA_TYPE, toSpdx } from "../scanner/index.js";
import type { DetailedMatcher } from "../vulndb/match/matcher.js";
import { renderSarif } from "../vulndb/report.js";
import { storedFacts } from "../vulndb/rematch.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface ImageListQuery {
  readonly location?: { registry: string; repository: string };
  readonly scanState?: ScanState;
  readonly verdict?: Verdict;
  readonly pulledSince?: Date;
  readonly limit: number;
  readonly continuation?: string;
}

export interface ImageSummary {
  readonly digest: string;
  readonly kind?: string;
  readonly platform?: string;
  readonly locations: readonly { registry: string; repository: string; tags: readonly string[] }[];
  readonly scan: { readonly state: ScanState; readonly updatedAt: string; readonly lastError?: { code: string; message: string } };
  /** The verdict cached on the record; `current` false when the policy or the match moved on since (the sweep catches up). */
  readonly verdict?: { readonly overall: Verdict; readonly policyVersion: string; readonly computedAt: string; readonly current: boolean };
  readonly findings?: Readonly<Record<Severity, number>>;
  readonly coverageGaps?: number;
  readonly dbVersion?: string;
  readonly matchedAt?: string;
  readonly firstSeenAt: string;
  readonly lastPushedAt?: string;
  readonly lastPulledAt?: string;
  readonly lastScannedAt?: string;
  readonly childDigests?: readonly string[];
}

export function summarize(record: ImageRecord, policy: Policy, now: Date): ImageSummary {
  const counts = Object.fromEntries(SeveritySchema.options.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of record.result?.findings ?? []) counts[f.severity]++;
  const platform = platformName(record.platform);
  return {
    digest: record.id,
    ...(record.kind === undefined ? {} : { kind: record.kind }),
    ...(platform === undefined ? {} : { platform }),
    locations: record.locations.map((l) => ({ registry: l.registry, repository: l.repository, tags: l.tags })),
    scan: {
      state: record.scan.state,
      updatedAt: record.scan.updatedAt,
      ...(record.scan.lastError === undefined ? {} : { lastError: { code: record.scan.lastError.code, message: record.scan.lastError.message } })
    },
    ...(record.verdict === undefined
      ? {}
      : {
          verdict: {
            overall: record.verdict.overall,
            policyVersion: record.verdict.policyVersion,
            computedAt: record.verdict.computedAt,
            current: isCachedVerdictCurrent(record.verdict, record, policy.version, now)
          }
        }),
    ...(record.result === undefined
      ? {}
      : { findings: counts, coverageGaps: record.result.coverageGaps.length, dbVersion: record.result.dbVersion, matchedAt: record.result.matchedAt }),
    firstSeenAt: record.firstSeenAt,
    ...(record.lastPushedAt === undefined ? {} : { lastPushedAt: record.lastPushedAt }),
    ...(record.lastPulledAt === undefined ? {} : { lastPulledAt: record.lastPulledAt }),
    ...(record.lastScannedAt === undefined ? {} : { lastScannedAt: record.lastScannedAt }),
    ...(record.childDigests === undefined ? {} : { childDigests: record.childDigests })
  };
}

export async function listImageSummaries(
  images: Container<ImageRecord>,
  policy: Policy,
  query: ImageListQuery,
  now: Date
): Promise<{ items: ImageSummary[]; continuation?: string }> {
  const filter: ImageListFilter = {
    ...(query.location === undefined ? {} : { location: query.location }),
    ...(query.scanState === undefined ? {} : { scanState: query.scanState }),
    ...(query.verdict === undefined ? {} : { verdict: query.verdict }),
    ...(query.pulledSince === undefined ? {} : { recency: { by: "lastPulledAt", since: query.pulledSince } })
  };
  const page = await listImages(images, filter, {
    limit: query.limit,
    ...(query.continuation === undefined ? {} : { continuation: query.continuation }),
    // Recently pulled first when asked by pull time; otherwise by digest, which pages stably.
    ...(query.pulledSince === undefined ? {} : { orderBy: { by: "lastPulledAt", direction: "desc" as const } })
  });
  return { items: page.items.map((r) => summarize(r, policy, now)), ...(page.continuation === undefined ? {} : { continuation: page.continuation }) };
}

function notFound(digest: string): ScanhookError {
  return new ScanhookError("IMAGE.UNKNOWN", `scanhook has never seen ${digest}`, { status: 404, meta: { digest } });
}

export async function getImageRecord(images: Container<ImageRecord>, digest: Digest): Promise<ImageRecord> {
  const found = await images.get(digest);
  if (found === undefined) throw notFound(digest);
  return found.doc;
}

/** The record's result, or 404 with the reason when there is none yet. */
export async function getResult(images: Container<ImageRecord>, digest: Digest): Promise<{ record: ImageRecord; result: NonNullable<ImageRecord["result"]> }> {
  const record = await getImageRecord(images, digest);
  if (record.result === undefined) {
    const why =
      record.kind === "artifact"
        ? `it is not an image (${record.skipReason ?? "skipped"})`
        : record.kind === "index"
          ? "it is an index: ask for one of its platform manifests (childDigests)"
          : `it has no scan result yet (scan state ${record.scan.state})`;
    throw new ScanhookError("IMAGE.NO_RESULT", `${digest}: ${why}`, { status: 404, meta: { digest } });
  }
  return { record, result: record.result };
}

export type SbomFormat = "cyclonedx" | "spdx";

async function readResultBlob(blobs: BlobStore, digest: Digest, name: string, what: string): Promise<Buffer> {
  const bytes = await blobs.get(BLOB_CONTAINERS.results, name);
  if (bytes === undefined) {
    throw new ScanhookError("IMAGE.NO_BLOB", `${digest}: no ${what} is stored for this digest yet (${BLOB_CONTAINERS.results}/${name})`, {
      status: 404,
      meta: { digest }
    });
  }
  return bytes;
}

function parseStored(bytes: Buffer, digest: Digest, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    throw new ScanhookError("IMAGE.BLOB_INVALID", `${digest}: the stored ${what} is not JSON`, { status: 500, meta: { digest } });
  }
}

/**
 * The record's canonical SBOM (CycloneDX, DESIGN principle 10), as stored, and its SPDX rendering
 * made from it on request: one stored SBOM, every other format a rendering. 404 with the reason
 * while the record has no result or the blob is missing.
 */
export async function getSbom(
  images: Container<ImageRecord>,
  blobs: BlobStore,
  digest: Digest,
  format: SbomFormat
): Promise<{ bytes: Buffer; mediaType: string }> {
  const { result } = await getResult(images, digest);
  const bytes = await readResultBlob(blobs, digest, result.sbom.blob, "SBOM");
  if (format === "cyclonedx") return { bytes, mediaType: result.sbom.mediaType };
  const bom = parseStored(bytes, digest, "SBOM") as CycloneDxBom;
  if (typeof bom !== "object" || bom === null || !Array.isArray(bom.components) || typeof bom.metadata !== "object") {
    throw new ScanhookError("IMAGE.BLOB_INVALID", `${digest}: the stored SBOM is not a CycloneDX document scanhook wrote`, { status: 500, meta: { digest } });
  }
  return { bytes: Buffer.from(JSON.stringify(toSpdx(bom))), mediaType: SPDX_MEDIA_TYPE };
}

export interface ReportDeps {
  readonly images: Container<ImageRecord>;
  readonly blobs: BlobStore;
  /** The matcher over the current DB, or undefined while there is none. */
  readonly matcher: () => Promise<DetailedMatcher | undefined>;
  readonly now: () => Date;
}

/**
 * The full findings (summaries, references, every record id) of the stored SBOM against the
 * current DB, rendered as SARIF 2.1.0. Made on request, not stored: a rematch after every DB update
 * would otherwise write a report blob per image that few ever read, and build report-sized objects
 * for every finding to write it. Its `dbVersion` says which DB it used; the record's findings
 * catch up with a newer DB at the next rematch.
 */
export async function getSarifReport(deps: ReportDeps, digest: Digest): Promise<{ bytes: Buffer; mediaType: string }> {
  const { result } = await getResult(deps.images, digest);
  const matcher = await deps.matcher();
  if (matcher === undefined) {
    throw new ScanhookError("VULNDB.UNAVAILABLE", `${digest}: there is no vulnerability DB yet to make the report with; the record's findings are pending too`, { status: 503, meta: { digest } });
  }
  const read = storedFacts(result, await readResultBlob(deps.blobs, digest, result.sbom.blob, "SBOM"));
  if (!read.ok) throw new ScanhookError("IMAGE.BLOB_INVALID", `${digest}: ${read.reason}`, { status: 500, meta: { digest } });
  const outcome = matcher.matchDetailed(read.facts, deps.now());
  const sarif = renderSarif({
    target: digest,
    dbVersion: outcome.dbVersion,
    matchedAt: outcome.matchedAt,
    findings: outcome.detailed,
    coverageGaps: outcome.coverageGaps,
    packages: []
  });
  return { bytes: Buffer.from(JSON.stringify(sarif)), mediaType: "application/sarif+json" };
}

/** Asks for a `reindex` of a digest at one of its locations (its index's, for a platform manifest). */
export async function requestRescan(deps: { images: Container<ImageRecord>; queues: QueueSender; now: () => Date }, digest: Digest, cause: string): Promise<{ registry: string; repository: string }> {
  const record = await getImageRecord(deps.images, digest);
  if (record.kind === "artifact" || record.scan.state === "skipped") {
    throw new ScanhookError("IMAGE.NOT_AN_IMAGE", `${digest} is not a runnable image: ${record.skipReason ?? "skipped"}`, { status: 422 });
  }
  let location = record.locations[0];
  for (const parent of record.parentDigests ?? []) {
    if (location !== undefined) break;
    location = (await deps.images.get(parent))?.doc.locations[0];
  }
  if (location === undefined) {
    throw new ScanhookError("IMAGE.NO_LOCATION", `${digest} has no location left to read it from (deleted from every repository)`, { status: 409 });
  }
  await requestScan(deps, {
    kind: "reindex",
    digest,
    registry: location.registry,
    repository: location.repository,
    cause: cause.slice(0, 300),
    requestedAt: deps.now().toISOString()
  });
  return { registry: location.registry, repository: location.repository };
}
