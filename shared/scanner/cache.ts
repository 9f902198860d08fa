import { z } from "zod";
import type { Digest } from "../domain/digest.js";
import { BLOB_CONTAINERS, type BlobStore } from "../blobs/blobs.js";
import type { Analyzer } from "./analyzer.js";
import type { AnalyzerLayerResult, LayerChanges } from "./layer.js";

/**
 * The per-layer index cache (DESIGN principle 2, Trivy's layer cache): what each analyzer found in
 * a layer, keyed by (layer digest, analyzer name, analyzer version), plus the layer's whiteouts
 * keyed by the walker's version. A base layer shared by a thousand images is read once; bumping
 * one analyzer's version makes only that analyzer read the layers again.
 *
 * Walker version 2 records the layer's symlinks too (directory symlinks resolve through them).
 *
 * Blob names: `layers/<algorithm>/<hex>/analyzers/<analyzer name>/<version>.json` and
 * `layers/<algorithm>/<hex>/changes/<walker version>.json` in the layer-cache container. Entries
 * are written once (`ifNotExists`) and only after the layer's digest was verified; an entry that
 * does not parse is a miss, never trusted.
 */

/** Bump when what `readLayer` records about whiteouts changes. */
export const WALKER_VERSION = "2";

const AnalyzerLayerResultSchema = z.object({
  files: z.array(z.object({ path: z.string(), value: z.unknown() })),
  links: z.array(z.object({ path: z.string(), target: z.string() })),
  warnings: z.array(z.string())
});
const LayerChangesSchema = z.object({
  whiteouts: z.array(z.string()),
  opaqueDirs: z.array(z.string()),
  symlinks: z.array(z.object({ path: z.string(), target: z.string() }))
});

export interface LayerCache {
  getResult(layer: Digest, analyzer: Analyzer): Promise<AnalyzerLayerResult | undefined>;
  putResult(layer: Digest, analyzer: Analyzer, result: AnalyzerLayerResult): Promise<void>;
  getChanges(layer: Digest): Promise<LayerChanges | undefined>;
  putChanges(layer: Digest, changes: LayerChanges): Promise<void>;
}

function layerPrefix(layer: Digest): string {
  const [algorithm, hex] = layer.split(":");
  return `layers/${algorithm ?? ""}/${hex ?? ""}`;
}

export function analyzerBlobName(layer: Digest, analyzer: Pick<Analyzer, "name" | "version">): string {
  return `${layerPrefix(layer)}/analyzers/${analyzer.name}/${analyzer.version}.json`;
}

export class BlobLayerCache implements LayerCache {
  constructor(
    private readonly blobs: BlobStore,
    private readonly container: string = BLOB_CONTAINERS.layerCache
  ) {}

  private async read<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const bytes = await this.blobs.get(this.container, name);
    if (bytes === undefined) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(bytes.toString("utf8")));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private async write(name: string, value: unknown): Promise<void> {
    await this.blobs.put(this.container, name, Buffer.from(JSON.stringify(value)), { ifNotExists: true, contentType: "application/json" });
  }

  getResult(layer: Digest, analyzer: Analyzer): Promise<AnalyzerLayerResult | undefined> {
    return this.read(analyzerBlobName(layer, analyzer), AnalyzerLayerResultSchema);
  }
  putResult(layer: Digest, analyzer: Analyzer, result: AnalyzerLayerResult): Promise<void> {
    return this.write(analyzerBlobName(layer, analyzer), result);
  }
  getChanges(layer: Digest): Promise<LayerChanges | undefined> {
    return this.read(`${layerPrefix(layer)}/changes/${WALKER_VERSION}.json`, LayerChangesSchema);
  }
  putChanges(layer: Digest, changes: LayerChanges): Promise<void> {
    return this.write(`${layerPrefix(layer)}/changes/${WALKER_VERSION}.json`, changes);
  }
}
