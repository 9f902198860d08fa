import type { Digest } from "../domain/digest.js";
import { describeError, isScanhookError, ScanhookError } from "../domain/errors.js";
import { newImageRecord, withLocation, type ImageRecord, type ManifestFactsRecord } from "../domain/image-record.js";
import { classifyManifest, type ManifestFacts } from "../domain/manifest.js";
import type { ScanRequest } from "../domain/scan-request.js";
import type { RegistryClient } from "../registry/port.js";
import type { QueueSender } from "../queues/queues.js";
import type { Container } from "../store/port.js";
import { refreshIndexResult, refreshParentsOf } from "../scanner/index-result.js";
import { requestScan } from "./record-events.js";

/**
 * The `scan-requests` consumer's work for one request: read the manifest once per digest, record
 * what it says, and hand images to the scanner. Idempotent and at-least-once safe:
 * - a digest whose manifest is already recorded is not fetched again (`reindex` forces it);
 * - concurrent requests for one digest are settled by a lease on the record: the holder works,
 *   the others complete at once (the holder's own message is retried if it fails);
 * - on the last attempt a failure is written on the record (`failed`, with the code) before it
 *   propagates to the poison queue.
 */

/** The indexer, once it exists (the indexer issue); until then images wait in `queued`. */
export interface Scanner {
  scan(record: ImageRecord, request: ScanRequest, options: { abortSignal?: AbortSignal }): Promise<void>;
}

export interface ProcessScanDeps {
  readonly images: Container<ImageRecord>;
  readonly registry: RegistryClient;
  readonly queues: QueueSender;
  readonly scanner: Scanner | undefined;
  readonly now: () => Date;
}

export interface ProcessScanContext {
  /** Owner of the lease: the queue message id, stable across its retries. */
  readonly messageId: string;
  readonly isLastAttempt: boolean;
  readonly abortSignal?: AbortSignal;
}

export type ProcessOutcome =
  | { readonly kind: "recorded"; readonly recordKind: ManifestFacts["kind"]; readonly children: number }
  | { readonly kind: "already-recorded" }
  | { readonly kind: "leased-elsewhere"; readonly owner: string }
  | { readonly kind: "deleted" };

/** How long a lease keeps other requests for the digest away; longer than any manifest fetch. */
const LEASE_MS = 5 * 60_000;

export async function processScanRequest(request: ScanRequest, deps: ProcessScanDeps, context: ProcessScanContext): Promise<ProcessOutcome> {
  const now = deps.now();
  type Claim = "claimed" | "recorded" | "deleted" | { owner: string };
  // Set inside the update callback, which may run more than once: the last run decides.
  let claim = "claimed" as Claim;
  await deps.images.update(request.digest, (current) => {
    const base = current ?? withLocation(newImageRecord(request.digest, now), { registry: request.registry, repository: request.repository, ...(request.tag === undefined ? {} : { tag: request.tag }) });
    if (base.deleted) {
      claim = "deleted";
      return undefined;
    }
    if (base.kind !== undefined && request.kind === "index") {
      claim = "recorded";
      return current === undefined ? base : undefined;
    }
    const lease = base.scan.lease;
    if (lease !== undefined && lease.owner !== context.messageId && Date.parse(lease.until) > now.getTime()) {
      claim = { owner: lease.owner };
      return undefined;
    }
    claim = "claimed";
    return {
      ...base,
      scan: {
        ...base.scan,
        state: "scanning",
        requestKind: request.kind,
        attempts: base.scan.attempts + 1,
        lease: { owner: context.messageId, until: new Date(now.getTime() + LEASE_MS).toISOString() },
        updatedAt: now.toISOString()
      }
    };
  });
  if (claim === "deleted") return { kind: "deleted" };
  if (typeof claim === "object") return { kind: "leased-elsewhere", owner: claim.owner };
  if (claim === "recorded") {
    const record = (await deps.images.get(request.digest))?.doc;
    if (record !== undefined && deps.scanner !== undefined && record.kind === "image" && record.scan.state === "queued") {
      try {
        await deps.scanner.scan(record, request, context.abortSignal === undefined ? {} : { abortSignal: context.abortSignal });
      } catch (e) {
        // The scanner put the record back to `queued` for the retry; on the last attempt there is none.
        await releaseLease(request.digest, deps, context, e);
        throw e;
      }
    }
    return { kind: "already-recorded" };
  }

  try {
    const manifest = await deps.registry.getManifest(
      { host: request.registry, repository: request.repository, reference: request.digest },
      context.abortSignal === undefined ? {} : { abortSignal: context.abortSignal }
    );
    const classified = classifyManifest(manifest.json, manifest.mediaType);
    if (!classified.ok) {
      throw new ScanhookError("MANIFEST.INVALID", `manifest ${request.digest} is not a manifest scanhook understands: ${classified.reason}`);
    }
    const facts = classified.facts;
    // An index's platforms are linked to it before it says `done`: whoever sees the index done
    // finds each platform's record naming it, with its platform.
    if (facts.kind === "index") await recordChildren(request, deps, facts);
    const recorded = await recordManifest(request, deps, facts, manifest.bytes.length);
    if (facts.kind === "index") {
      // Platforms scanned before this index was (pushed alone, or listed by another index) count at once.
      await refreshIndexResult(deps.images, request.digest, deps.now);
    }
    if (facts.kind === "image" && deps.scanner !== undefined && recorded !== undefined) {
      await deps.scanner.scan(recorded, request, context.abortSignal === undefined ? {} : { abortSignal: context.abortSignal });
    }
    return { kind: "recorded", recordKind: facts.kind, children: facts.kind === "index" ? facts.children.length : 0 };
  } catch (e) {
    await releaseLease(request.digest, deps, context, e);
    throw e;
  }
}

/** Writes the manifest's facts; images wait in `queued` for the scanner, artifacts are `skipped`. */
async function recordManifest(request: ScanRequest, deps: ProcessScanDeps, facts: ManifestFacts, size: number): Promise<ImageRecord | undefined> {
  const at = deps.now().toISOString();
  const manifest: ManifestFactsRecord | undefined =
    facts.kind === "index"
      ? undefined
      : {
          size,
          ...(facts.kind === "image" ? { configDigest: facts.configDigest, configMediaType: facts.configMediaType } : {}),
          ...(facts.kind === "artifact" && facts.artifactType !== undefined ? { artifactType: facts.artifactType } : {}),
          layers: facts.layers.map((l) => ({ ...l })),
          fetchedAt: at
        };
  const written = await deps.images.update(request.digest, (current) => {
    if (current === undefined) return undefined;
    const { lease: _lease, ...scan } = current.scan;
    return {
      ...current,
      mediaType: facts.mediaType,
      kind: facts.kind,
      ...(facts.kind === "artifact" ? { skipReason: facts.skipReason } : {}),
      ...(manifest === undefined ? {} : { manifest }),
      ...(facts.kind === "index" ? { childDigests: facts.children.map((c) => c.digest) } : {}),
      scan: { ...scan, state: facts.kind === "artifact" ? "skipped" : facts.kind === "index" ? "done" : "queued", updatedAt: at }
    };
  });
  return written?.doc;
}

/** Each platform manifest of an index is a record of its own, linked both ways, and asked to be scanned. */
async function recordChildren(request: ScanRequest, deps: ProcessScanDeps, facts: Extract<ManifestFacts, { kind: "index" }>): Promise<void> {
  for (const child of facts.children) {
    let fresh = false;
    await deps.images.update(child.digest, (current) => {
      fresh = current === undefined || current.kind === undefined;
      const base = current ?? newImageRecord(child.digest, deps.now());
      const parents = new Set([...(base.parentDigests ?? []), request.digest]);
      const next: ImageRecord = withLocation(
        { ...base, parentDigests: [...parents], ...(child.platform === undefined ? {} : { platform: { ...child.platform } }), deleted: false },
        { registry: request.registry, repository: request.repository }
      );
      if (child.skipReason !== undefined && base.kind === undefined) {
        // Known from the index alone: no need to fetch it.
        return { ...next, mediaType: child.mediaType, kind: "artifact", skipReason: child.skipReason, scan: { ...next.scan, state: "skipped", updatedAt: deps.now().toISOString() } };
      }
      return next;
    });
    if (fresh && child.skipReason === undefined) {
      await requestScan(deps, {
        kind: "index",
        digest: child.digest as Digest,
        registry: request.registry,
        repository: request.repository,
        cause: `platform manifest of ${request.digest}`,
        requestedAt: deps.now().toISOString()
      });
    }
  }
}

/**
 * Gives the lease back after a failure so a retry (or another request) can work at once; on the
 * last attempt the record says `failed` with the cause, as the poison message will.
 */
async function releaseLease(digest: Digest, deps: ProcessScanDeps, context: ProcessScanContext, error: unknown): Promise<void> {
  const at = deps.now().toISOString();
  try {
    await deps.images.update(digest, (current) => {
      if (current === undefined) return undefined;
      const { lease, ...rest } = current.scan;
      // Only this message's own lease is given back: one taken over by another request stays its.
      const scan = lease === undefined || lease.owner === context.messageId ? rest : { ...rest, lease };
      return {
        ...current,
        scan: {
          ...scan,
          state: context.isLastAttempt ? "failed" : scan.state === "scanning" ? "queued" : scan.state,
          lastError: { code: isScanhookError(error) ? error.code : "INTERNAL", message: describeError(error), at },
          updatedAt: at
        }
      };
    });
    // A platform that ends failed here (its manifest could not be read) is part of its indexes' results.
    if (context.isLastAttempt) await refreshParentsOf(deps.images, digest, deps.now);
  } catch {
    // The original error matters more; the lease runs out by itself.
  }
}
