import { createHash } from "node:crypto";
import { BLOB_CONTAINERS, type BlobStore } from "../blobs/blobs.js";
import { describeError, isScanhookError, ScanhookError } from "../domain/errors.js";
import type { ImageRecord, ScanResult, ScanState } from "../domain/image-record.js";
import { NO_DB_GAP, NO_DB_VERSION, type MatchOutcome, type SbomFacts } from "../domain/match.js";
import type { ScanRequest } from "../domain/scan-request.js";
import type { Logger } from "../log.js";
import type { RegistryClient } from "../registry/port.js";
import type { Container } from "../store/port.js";
import type { Scanner } from "../usecases/process-scan-request.js";
import type { Analyzer } from "./analyzer.js";
import { ANALYZERS } from "./analyzers/index.js";
import { BlobLayerCache, type LayerCache } from "./cache.js";
import { refreshParentsOf } from "./index-result.js";
import { indexImage } from "./indexer.js";
import type { ScanLimits } from "./limits.js";
import { CYCLONEDX_MEDIA_TYPE, toCycloneDx } from "./sbom/cyclonedx.js";
import { platformMatches, type PlatformFilter } from "./sources/common.js";
import { registryImageSource } from "./sources/registry.js";

/**
 * The production adapter of the `Scanner` port: indexes an image record's layers from the
 * registry (through the per-layer cache), stores the CycloneDX SBOM as a blob, matches it when a
 * vulnerability DB is loaded (the `match` step also stores the full report), and writes the result
 * onto the record with a conditional update.
 *
 * - `index` is skipped when the record's last result used the current analyzer versions;
 *   `reindex` always reads (layers still come from the cache when their entries are current).
 * - A platform manifest outside `platforms` is `skipped` with the reason in `lastError`.
 * - The result is replaced only by a newer complete one (DESIGN principle 4): a failed rescan
 *   leaves the last result in place and says why in `scan.lastError`.
 * - Errors that a retry cannot change (a corrupt or oversized layer, a digest mismatch, a timeout)
 *   end the scan as `failed` or `timeout` and resolve; others (registry unreachable …) put the
 *   record back to `queued` with the cause and reject, so the queue retries the message.
 * - Every index listing the platform gets its `platformResults` recomputed (./index-result.ts).
 * - Without a DB the result says so: `findings: []`, `dbVersion: "none"` and the
 *   `no-vulnerability-db` gap, never a silent "clean".
 */

export interface ScannerDeps {
  readonly images: Container<ImageRecord>;
  readonly registry: RegistryClient;
  readonly blobs: BlobStore;
  readonly limits: ScanLimits;
  /** Platforms to scan; empty = all. */
  readonly platforms: readonly PlatformFilter[];
  readonly analyzers?: readonly Analyzer[];
  /**
   * Matches the facts of a freshly indexed image; undefined, or resolving undefined, while no
   * vulnerability DB exists yet.
   */
  readonly match?: (facts: SbomFacts, now: Date) => Promise<MatchOutcome | undefined>;
  /** Defaults to the layer-cache container of `blobs`. */
  readonly cache?: LayerCache;
  readonly now?: () => Date;
  readonly log?: Logger;
}

/** Error codes a retry cannot change: the scan ends at once, as `failed` (or `timeout`). */
const FINAL_CODES = /^(LAYER\.|IMAGE\.|SCAN\.TIMEOUT$|SCAN\.TOO_LARGE$|REGISTRY\.DIGEST_MISMATCH$|REGISTRY\.TOO_LARGE$|REGISTRY\.NOT_FOUND$)/;

/** Blob name of a digest's SBOM in the results container. */
export function sbomBlobName(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return `sboms/${algorithm ?? ""}/${hex ?? ""}.cdx.json`;
}

function sameAnalyzers(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

export function createScanner(deps: ScannerDeps): Scanner {
  const analyzers = deps.analyzers ?? ANALYZERS;
  const current = Object.fromEntries(analyzers.map((a) => [a.name, a.version]));
  const cache = deps.cache ?? new BlobLayerCache(deps.blobs);
  const now = deps.now ?? (() => new Date());

  const setState = async (digest: string, state: ScanState, error?: unknown): Promise<void> => {
    const at = now().toISOString();
    await deps.images.update(digest, (r) => {
      if (r === undefined) return undefined;
      const { lastError: _previous, ...scan } = r.scan;
      return {
        ...r,
        scan: {
          ...scan,
          state,
          ...(error === undefined ? {} : { lastError: { code: isScanhookError(error) ? error.code : "INTERNAL", message: describeError(error), at } }),
          updatedAt: at
        }
      };
    });
  };

  const scan = async (record: ImageRecord, request: ScanRequest, options: { abortSignal?: AbortSignal }): Promise<void> => {
    const manifest = record.manifest;
    if (record.kind !== "image" || manifest === undefined) return;
    if (request.kind === "index" && record.result !== undefined && sameAnalyzers(record.result.analyzers, current)) {
      if (record.scan.state !== "done") await setState(record.id, "done");
      return;
    }
    if (record.platform !== undefined && !platformMatches(record.platform, deps.platforms)) {
      await setState(record.id, "skipped", new ScanhookError("SCAN.PLATFORM_FILTERED", `platform ${record.platform.os}/${record.platform.architecture} is not in SCAN_PLATFORMS`));
      return;
    }
    await setState(record.id, "scanning");
    const log = deps.log?.child("scanner");
    try {
      const source = await registryImageSource(
        deps.registry,
        { host: request.registry, repository: request.repository, digest: record.id },
        manifest,
        { limits: deps.limits, ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }) }
      );
      const started = now();
      const index = await indexImage(source, { analyzers, limits: deps.limits, cache, now: started, ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }) });
      for (const w of index.warnings.slice(0, 20)) log?.warn(`${record.id}: ${w}`);
      const bom = toCycloneDx({ subject: source.name, digest: record.id, facts: index.facts, distribution: index.distribution, analyzers: index.analyzers, indexedAt: started });
      const bytes = Buffer.from(JSON.stringify(bom));
      const blob = sbomBlobName(record.id);
      await deps.blobs.put(BLOB_CONTAINERS.results, blob, bytes, { contentType: CYCLONEDX_MEDIA_TYPE });
      const matchedAt = now();
      const outcome = await deps.match?.(index.facts, matchedAt);
      const counts: Record<string, number> = {};
      for (const p of index.facts.packages) {
        const key = p.ecosystem ?? "unknown";
        counts[key] = (counts[key] ?? 0) + 1;
      }
      const result: ScanResult = {
        analyzers: index.analyzers,
        sbom: { blob, mediaType: CYCLONEDX_MEDIA_TYPE, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") },
        packageCounts: counts,
        findings: outcome === undefined ? [] : [...outcome.findings],
        coverageGaps: outcome === undefined ? [...index.facts.coverageGaps, NO_DB_GAP] : [...outcome.coverageGaps],
        indexedAt: started.toISOString(),
        dbVersion: outcome?.dbVersion ?? NO_DB_VERSION,
        matchedAt: outcome?.matchedAt ?? matchedAt.toISOString()
      };
      const at = now().toISOString();
      await deps.images.update(record.id, (r) => {
        if (r === undefined) return undefined;
        const { lastError: _previous, ...scan } = r.scan;
        return { ...r, result, lastScannedAt: at, scan: { ...scan, state: "done", updatedAt: at } };
      });
      log?.info(`${record.id}: ${index.facts.packages.length} packages, ${index.layersRead} of ${source.layers.length} layers read`);
    } catch (e) {
      const code = isScanhookError(e) ? e.code : "";
      if (FINAL_CODES.test(code)) {
        await setState(record.id, code === "SCAN.TIMEOUT" ? "timeout" : "failed", e);
        log?.warn(`${record.id}: ${describeError(e)}`);
        return;
      }
      await setState(record.id, "queued", e).catch(() => undefined);
      throw e;
    }
  };

  return {
    async scan(record: ImageRecord, request: ScanRequest, options: { abortSignal?: AbortSignal }): Promise<void> {
      try {
        await scan(record, request, options);
      } finally {
        // A platform's new state reaches its indexes' records; a failure here must not fail the scan.
        if (record.kind === "image") {
          await refreshParentsOf(deps.images, record.id, now).catch((e: unknown) => deps.log?.child("scanner").warn(`${record.id}: its indexes' platform results were not updated: ${describeError(e)}`));
        }
      }
    }
  };
}
