import type { CoverageGap } from "../domain/image-record.js";
import type { InstalledPackage } from "../domain/package.js";
import type { Digest } from "../domain/digest.js";

/**
 * The analyzer contract (Trivy's two phases, OSV-SCALIBR's names): `matches(path)` is asked for
 * every path while a layer streams past and must be cheap; `extract` runs on the claimed files
 * only and returns a JSON value (it is what the per-layer cache stores, keyed by layer digest,
 * analyzer name and version); `combine` turns the extracted values of the whole image (every
 * layer's version of each claimed path, whiteouts applied) into packages.
 *
 * One corrupt file is a warning, never a failed image (STYLE practice 5): `extract` returns its
 * warnings instead of throwing, and a throw is caught and turned into one.
 */

/** What the distribution analyzer found, handed to every package analyzer's `combine`. */
export interface Distribution {
  /** os-release `ID` (`debian`, `alpine`, `azurelinux`), lowercase. */
  readonly id: string;
  /** os-release `VERSION_ID`, when set. */
  readonly versionId: string | undefined;
  readonly prettyName: string | undefined;
  /** OSV ecosystem with release (`Debian:12`); undefined when unknown: a coverage gap. */
  readonly ecosystem: string | undefined;
  /** purl `distro=` qualifier value (`debian-12`, `alpine-3.20.3`). */
  readonly purlDistro: string;
}

export interface CombineContext {
  readonly distribution: Distribution | undefined;
  /** The time end-of-life is judged at. */
  readonly now: Date;
}

/** One version of a claimed path: the value `extract` returned for it in one layer. */
export interface FileVersion<E> {
  readonly path: string;
  /** Position of the layer in the image, 0 = base. */
  readonly layerIndex: number;
  /** Diff id (or digest) of that layer, for `InstalledPackage.layer`. */
  readonly layer: Digest | undefined;
  readonly value: E;
  /** Whether this is the version a container sees (no later layer replaced or deleted it). */
  readonly visible: boolean;
}

export interface Extraction<E> {
  /** Undefined when nothing usable was found (the warnings say why). */
  readonly value: E | undefined;
  readonly warnings: readonly string[];
}

export interface AnalyzerOutput {
  readonly packages: readonly InstalledPackage[];
  readonly warnings: readonly string[];
  readonly coverageGaps?: readonly CoverageGap[];
  /** Only from the distribution analyzer. */
  readonly distribution?: Distribution;
  readonly contentSetCpes?: readonly string[];
}

export interface Analyzer<E = unknown> {
  /** Path-like, stable: `os/dpkg`, `os/release`. Part of cache keys and of the stored result. */
  readonly name: string;
  /** Bump whenever `extract` changes what it returns: cached layers are then read again for it. */
  readonly version: string;
  /** `distribution` analyzers run first; their `Distribution` reaches every `packages` analyzer. */
  readonly kind: "distribution" | "packages";
  matches(path: string): boolean;
  extract(file: { readonly path: string; readonly content: Buffer }): Extraction<E>;
  combine(files: readonly FileVersion<E>[], context: CombineContext): AnalyzerOutput;
}

/**
 * Erases the analyzer's value type for the list: values only ever flow from its own `extract` to
 * its own `combine` (through the JSON cache), so the list can hold analyzers of different types.
 */
export function defineAnalyzer<E>(analyzer: Analyzer<E>): Analyzer {
  return analyzer as unknown as Analyzer;
}

/** Checks an analyzer list at load: names unique and well-formed (they go into blob names). */
export function checkAnalyzers(list: readonly Analyzer[]): readonly Analyzer[] {
  const seen = new Set<string>();
  for (const a of list) {
    if (!/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/.test(a.name)) throw new Error(`analyzer name ${JSON.stringify(a.name)} is not a path of lowercase words`);
    if (!/^[A-Za-z0-9.+-]+$/.test(a.version)) throw new Error(`analyzer ${a.name}: version ${JSON.stringify(a.version)} is not a plain version`);
    if (seen.has(a.name)) throw new Error(`analyzer ${a.name} is listed twice`);
    seen.add(a.name);
  }
  return list;
}

/** Safely runs `extract`: a throw becomes a warning naming the file. */
export function runExtract(analyzer: Analyzer, path: string, content: Buffer): Extraction<unknown> {
  try {
    return analyzer.extract({ path, content });
  } catch (e) {
    return { value: undefined, warnings: [`${analyzer.name}: ${path}: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

/**
 * Which layer last changed each package's database entry: walking the versions of its database
 * from the base up, an entry that appears or differs from the layer below takes that layer.
 * `entries` lists one version's entries as `[key, fingerprint]`.
 */
export function layerOfEntries<E>(versions: readonly FileVersion<E>[], entries: (value: E) => Iterable<readonly [string, string]>): Map<string, Digest | undefined> {
  // Per path, so that one file of a directory database (dpkg status.d) does not drop another's entries.
  const byPath = new Map<string, Map<string, { fingerprint: string; layer: Digest | undefined }>>();
  for (const v of [...versions].sort((a, b) => a.layerIndex - b.layerIndex)) {
    const before = byPath.get(v.path) ?? new Map<string, { fingerprint: string; layer: Digest | undefined }>();
    const now = new Map<string, { fingerprint: string; layer: Digest | undefined }>();
    for (const [key, fingerprint] of entries(v.value)) {
      const prior = before.get(key);
      now.set(key, prior !== undefined && prior.fingerprint === fingerprint ? prior : { fingerprint, layer: v.layer });
    }
    byPath.set(v.path, now);
  }
  const out = new Map<string, Digest | undefined>();
  for (const entriesOfPath of byPath.values()) for (const [k, v] of entriesOfPath) out.set(k, v.layer);
  return out;
}
