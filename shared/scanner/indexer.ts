import type { Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";
import type { CoverageGap } from "../domain/image-record.js";
import type { SbomFacts } from "../domain/match.js";
import type { InstalledPackage } from "../domain/package.js";
import type { Analyzer, Distribution } from "./analyzer.js";
import type { LayerCache } from "./cache.js";
import type { AnalyzerLayerResult, LayerChanges, LayerScan, ReadLayerOptions } from "./layer.js";
import type { ScanLimits } from "./limits.js";
import { buildView } from "./view.js";

/**
 * The indexer (Clair's "index once"): from an image's layers to the facts of its SBOM. Each layer
 * is read at most once per scan and not at all when the cache holds every analyzer's result for
 * it; the analyzers' `combine` then sees the image as a container would (view.ts).
 */

/** One layer of an image source, base first. */
export interface SourceLayer {
  /** The blob digest (the cache key); undefined for a directory, which is never cached. */
  readonly digest: Digest | undefined;
  /** The uncompressed layer's digest from the config's `rootfs.diff_ids`, when known. */
  readonly diffId: Digest | undefined;
  readonly size: number | undefined;
  read(analyzers: readonly Analyzer[], options: ReadLayerOptions): Promise<LayerScan>;
}

/** An image to index, from a registry, an OCI layout, a docker archive or a directory. */
export interface ImageSource {
  /** What the user named, for messages and SBOM metadata (`registry/repo@sha256:…`, `dir:/x`). */
  readonly name: string;
  /** The manifest digest, when the image has one. */
  readonly digest: Digest | undefined;
  readonly layers: readonly SourceLayer[];
  /** Releases what the source holds open (archive files). */
  close?(): Promise<void>;
}

export type IndexProgress =
  | { readonly kind: "layer-cached"; readonly index: number; readonly total: number }
  | { readonly kind: "layer-read"; readonly index: number; readonly total: number; readonly bytes: number; readonly entries: number };

export interface IndexOptions {
  readonly analyzers: readonly Analyzer[];
  readonly limits: ScanLimits;
  readonly cache?: LayerCache;
  readonly abortSignal?: AbortSignal;
  readonly onProgress?: (event: IndexProgress) => void;
  /** Defaults to the current time. */
  readonly now?: Date;
}

export interface ImageIndex {
  readonly facts: SbomFacts;
  readonly distribution: Distribution | undefined;
  /** Analyzer name → version, as the result records them. */
  readonly analyzers: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
  /** Layers actually read (the rest came from the cache). */
  readonly layersRead: number;
}

interface LayerData {
  readonly layer: Digest | undefined;
  readonly changes: LayerChanges;
  readonly results: ReadonlyMap<string, AnalyzerLayerResult>;
}

function timeoutSignal(limits: ScanLimits, outer: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(limits.timeoutInMs);
  return outer === undefined ? timeout : AbortSignal.any([outer, timeout]);
}

async function loadLayer(source: SourceLayer, index: number, total: number, options: IndexOptions, signal: AbortSignal, counters: { read: number }, warnings: string[]): Promise<LayerData> {
  const results = new Map<string, AnalyzerLayerResult>();
  let changes: LayerChanges | undefined;
  let missing: readonly Analyzer[] = options.analyzers;
  const cache = source.digest === undefined ? undefined : options.cache;
  if (cache !== undefined && source.digest !== undefined) {
    const digest = source.digest;
    const cached = await Promise.all(options.analyzers.map((a) => cache.getResult(digest, a)));
    missing = options.analyzers.filter((_, i) => cached[i] === undefined);
    options.analyzers.forEach((a, i) => {
      const hit = cached[i];
      if (hit !== undefined) results.set(a.name, hit);
    });
    changes = await cache.getChanges(digest);
  }
  const layer = source.diffId ?? source.digest;
  if (missing.length === 0 && changes !== undefined) {
    options.onProgress?.({ kind: "layer-cached", index, total });
    return { layer, changes, results };
  }
  const scan = await source.read(missing, { limits: options.limits, abortSignal: signal });
  counters.read++;
  warnings.push(...scan.warnings.map((w) => `layer ${index + 1}: ${w}`));
  options.onProgress?.({ kind: "layer-read", index, total, bytes: scan.compressedBytes, entries: scan.entries });
  for (const [name, r] of scan.results) results.set(name, r);
  if (cache !== undefined && source.digest !== undefined) {
    const digest = source.digest;
    await Promise.all([...missing.map((a) => cache.putResult(digest, a, scan.results.get(a.name) ?? { files: [], links: [], warnings: [] })), cache.putChanges(digest, scan.changes)]);
  }
  return { layer, changes: scan.changes, results };
}

/**
 * Indexes an image. Fatal errors (`LAYER.*`, `REGISTRY.*`, `SCAN.TIMEOUT`) reject; everything an
 * analyzer could not read is a warning, and what it means for coverage is a gap in the facts.
 */
export async function indexImage(source: ImageSource, options: IndexOptions): Promise<ImageIndex> {
  const signal = timeoutSignal(options.limits, options.abortSignal);
  const warnings: string[] = [];
  const counters = { read: 0 };
  const layers: LayerData[] = [];
  try {
    for (const [i, l] of source.layers.entries()) {
      if (signal.aborted) throw signal.reason;
      layers.push(await loadLayer(l, i, source.layers.length, options, signal, counters, warnings));
    }
  } catch (e) {
    if (signal.aborted && options.abortSignal?.aborted !== true) {
      throw new ScanhookError("SCAN.TIMEOUT", `the scan took longer than the limit of ${options.limits.timeoutInMs} ms`, { cause: e });
    }
    throw e;
  }

  let distribution: Distribution | undefined;
  let contentSetCpes: readonly string[] = [];
  const packages: InstalledPackage[] = [];
  const gaps: CoverageGap[] = [];
  const ordered = [...options.analyzers.filter((a) => a.kind === "distribution"), ...options.analyzers.filter((a) => a.kind === "packages")];
  for (const analyzer of ordered) {
    const view = buildView(
      layers.map((l) => ({ layer: l.layer, changes: l.changes, result: l.results.get(analyzer.name) ?? { files: [], links: [], warnings: [] } }))
    );
    for (const l of layers) warnings.push(...(l.results.get(analyzer.name)?.warnings ?? []));
    warnings.push(...view.warnings.map((w) => `${analyzer.name}: ${w}`));
    let output;
    try {
      output = analyzer.combine(view.versions, { distribution, now: options.now ?? new Date() });
    } catch (e) {
      warnings.push(`${analyzer.name}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    warnings.push(...output.warnings);
    packages.push(...output.packages);
    gaps.push(...(output.coverageGaps ?? []));
    if (output.distribution !== undefined) distribution ??= output.distribution;
    if (output.contentSetCpes !== undefined) contentSetCpes = [...contentSetCpes, ...output.contentSetCpes];
  }
  return {
    facts: { distribution: distribution?.ecosystem, contentSetCpes, packages, coverageGaps: gaps },
    distribution,
    analyzers: Object.fromEntries(options.analyzers.map((a) => [a.name, a.version])),
    warnings,
    layersRead: counters.read
  };
}
