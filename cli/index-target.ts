import { join } from "node:path";
import { DirectoryBlobStore } from "../shared/blobs/directory-blobs.js";
import { loadProcessSettings } from "../shared/config.js";
import { createRegistryClient } from "../shared/registry/index.js";
import { ScanhookError } from "../shared/domain/errors.js";
import { findRegistry, parseRegistries, type RegistryConfig } from "../shared/domain/registries.js";
import { ANALYZERS, BlobLayerCache, indexImage, openImageSource, parsePlatforms, scanLimitsFrom, type ImageIndex, type ImageSource } from "../shared/scanner/index.js";
import { registryHostOfTarget } from "../shared/scanner/sources/target.js";

/**
 * The registries the CLI may contact for a target: `REGISTRIES`, plus the one host a registry
 * reference on the command line names (the user asked for it), reached over HTTPS with the user's
 * Docker config credentials (`docker login`, `az acr login`) or anonymously.
 */
export function registriesFor(target: string, listed: readonly RegistryConfig[]): readonly RegistryConfig[] {
  const host = registryHostOfTarget(target);
  if (host === undefined || findRegistry(listed, host) !== undefined) return listed;
  const parsed = parseRegistries(JSON.stringify([{ host, credential: { type: "docker-config" } }]));
  if (!parsed.ok) throw new ScanhookError("CLI.USAGE", `${target}: ${parsed.error}`);
  return [...listed, ...parsed.value];
}

export interface IndexTargetOptions {
  readonly platform?: string;
  readonly noCache: boolean;
  /** Progress and warnings (stderr); undefined for quiet. */
  readonly progress?: (line: string) => void;
}

/**
 * Indexes an image target of the CLI (`dir:`, `oci:`, `docker-archive:` or a registry reference),
 * as `scanhook sbom` and `scanhook scan` both do: settings' limits and platforms, the per-layer
 * directory cache unless `noCache`, progress per layer.
 */
export async function indexTarget(target: string, options: IndexTargetOptions): Promise<{ source: ImageSource; index: ImageIndex; started: Date }> {
  const settings = loadProcessSettings();
  const limits = scanLimitsFrom(settings);
  const platforms = parsePlatforms(options.platform ?? settings.SCAN_PLATFORMS);
  const registry = createRegistryClient(registriesFor(target, settings.registries), { limits: { manifestMaxBytes: settings.MANIFEST_MAX_BYTES } });
  const progress = options.progress;
  try {
    const source = await openImageSource(target, { limits, platforms, registry });
    const cache = options.noCache ? undefined : new BlobLayerCache(new DirectoryBlobStore(settings.SCAN_CACHE_DIR ?? join(settings.SCANHOOK_DATA_DIR, "layer-cache")));
    const started = new Date();
    const index = await indexImage(source, {
      analyzers: ANALYZERS,
      limits,
      ...(cache === undefined ? {} : { cache }),
      ...(progress === undefined
        ? {}
        : {
            onProgress: (e) =>
              progress(e.kind === "layer-cached" ? `layer ${e.index + 1}/${e.total}: cached` : `layer ${e.index + 1}/${e.total}: read ${e.bytes} bytes, ${e.entries} entries`)
          })
    });
    await source.close?.();
    if (progress !== undefined) for (const w of index.warnings) progress(`warning: ${w}`);
    return { source, index, started };
  } finally {
    registry.close();
  }
}
