/**
 * Re-matching a stored image (DESIGN principle 2, "index once, match often"): read the record's
 * SBOM blob, match it against the current DB, and write the new findings, gaps, DB version and
 * time on the record — no registry traffic, no layer read. Idempotent: a record already matched by
 * this DB version is left alone, and the write is conditional (the store's `update` retries on a
 * conflicting write and gives up if the result was replaced by a newer index meanwhile).
 */
import { z } from "zod";
import { BLOB_CONTAINERS, type BlobStore } from "../blobs/blobs.js";
import { isDigest, type Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";
import type { CoverageGap, ImageRecord } from "../domain/image-record.js";
import type { Container } from "../store/port.js";
import { readSbomFacts } from "../sbom/cyclonedx.js";
import { readOwnSbom } from "../sbom/own-form.js";
import type { SbomFacts } from "../domain/match.js";
import type { DetailedMatcher } from "./match/matcher.js";

type ImageResult = NonNullable<ImageRecord["result"]>;

export const RematchRequestSchema = z.object({
  digest: z.custom<Digest>((v) => isDigest(v), { error: "expected a digest" }),
  cause: z.string().max(500).optional(),
  requestedAt: z.iso.datetime().optional()
});
export type RematchRequest = z.infer<typeof RematchRequestSchema>;

/** Gap kinds the matcher and the SBOM reader produce again on every match; any other kind is the indexer's and is kept. */
const MATCH_GAP = /^(ecosystem-|version-unparseable|advisory-unreadable|redhat-unscoped|no-vulnerability-db|sbom-)/;

export type RematchOutcome =
  | { readonly kind: "matched"; readonly findings: number; readonly dbVersion: string }
  | { readonly kind: "no-db" }
  | { readonly kind: "up-to-date" }
  | { readonly kind: "not-indexed" };

export interface RematchDeps {
  readonly images: Container<ImageRecord>;
  readonly blobs: BlobStore;
  /** The matcher over the current DB, or undefined while there is none. */
  readonly matcher: () => Promise<DetailedMatcher | undefined>;
  readonly now: () => Date;
}

/**
 * The facts to match of a stored result: its SBOM blob read back, with the indexer's coverage gaps
 * kept from the result (the matcher's and the SBOM reader's own are made again on every match).
 */
export function storedFacts(result: ImageResult, sbom: Buffer): { readonly ok: true; readonly facts: SbomFacts } | { readonly ok: false; readonly reason: string } {
  const text = sbom.toString("utf8");
  // scanhook's own form is read without a tree (own-form.ts); anything else is parsed in full.
  let read = readOwnSbom(text);
  if (read === undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { ok: false, reason: `the SBOM blob ${result.sbom.blob} is not JSON: ${(e as Error).message}` };
    }
    read = readSbomFacts(json);
  }
  if (!read.ok) return { ok: false, reason: `the SBOM blob ${result.sbom.blob}: ${read.reason}` };
  const indexerGaps: CoverageGap[] = result.coverageGaps.filter((g) => !MATCH_GAP.test(g.kind));
  return { ok: true, facts: { ...read.facts, coverageGaps: [...indexerGaps, ...read.facts.coverageGaps] } };
}

export async function rematch(request: RematchRequest, deps: RematchDeps): Promise<RematchOutcome> {
  const matcher = await deps.matcher();
  if (matcher === undefined) return { kind: "no-db" };
  const record = (await deps.images.get(request.digest))?.doc;
  const result = record?.result;
  if (record === undefined || result === undefined) return { kind: "not-indexed" };
  if (result.dbVersion === matcher.dbVersion) return { kind: "up-to-date" };
  const bytes = await deps.blobs.get(BLOB_CONTAINERS.results, result.sbom.blob);
  if (bytes === undefined) throw new ScanhookError("REMATCH.SBOM_MISSING", `the SBOM blob ${result.sbom.blob} of ${request.digest} is missing`);
  const read = storedFacts(result, bytes);
  if (!read.ok) throw new ScanhookError("REMATCH.SBOM_INVALID", read.reason);
  // The compact findings only: the report with summaries and references is made when asked for.
  const outcome = matcher.match(read.facts, deps.now());
  await deps.images.update(request.digest, (current) => {
    // A newer index replaced the SBOM meanwhile: its own match stands.
    if (current?.result === undefined || current.result.sbom.blob !== result.sbom.blob) return undefined;
    return { ...current, result: { ...current.result, findings: [...outcome.findings], coverageGaps: [...outcome.coverageGaps], dbVersion: outcome.dbVersion, matchedAt: outcome.matchedAt } };
  });
  return { kind: "matched", findings: outcome.findings.length, dbVersion: outcome.dbVersion };
}
