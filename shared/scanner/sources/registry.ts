import type { Readable } from "node:stream";
import type { Digest } from "../../domain/digest.js";
import { ScanhookError } from "../../domain/errors.js";
import type { LayerFact } from "../../domain/manifest.js";
import type { RegistryClient } from "../../registry/port.js";
import type { ImageSource } from "../indexer.js";
import { readLayer } from "../layer.js";
import type { ScanLimits } from "../limits.js";
import { diffIdsOf, parseManifest, pickChild, type PlatformFilter } from "./common.js";

/**
 * Images in a registry, through the registry client: only `REGISTRIES` hosts, every blob verified
 * against its digest while it streams (`REGISTRY.DIGEST_MISMATCH` fails the layer before anything
 * it produced is cached), each layer bounded by `maxLayerBytes`.
 */

export interface RegistryImageRef {
  readonly host: string;
  readonly repository: string;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** An image whose manifest facts are known (the record's): fetches only its config, then layers on demand. */
export async function registryImageSource(
  registry: RegistryClient,
  ref: RegistryImageRef & { readonly digest: Digest },
  manifest: { readonly configDigest?: Digest | undefined; readonly layers: readonly LayerFact[] },
  options: { readonly limits: ScanLimits; readonly abortSignal?: AbortSignal }
): Promise<ImageSource> {
  const signal = options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal };
  let diffIds: (Digest | undefined)[] = manifest.layers.map(() => undefined);
  if (manifest.configDigest !== undefined) {
    const config = await readAll(await registry.openBlob({ host: ref.host, repository: ref.repository, digest: manifest.configDigest }, { ...signal, maxBytes: options.limits.maxManifestBytes }));
    diffIds = diffIdsOf(config, manifest.layers.length);
  }
  return {
    name: `${ref.host}/${ref.repository}@${ref.digest}`,
    digest: ref.digest,
    layers: manifest.layers.map((l, i) => ({
      digest: l.digest,
      diffId: diffIds[i],
      size: l.size,
      async read(analyzers, readOptions) {
        const stream = await registry.openBlob(
          { host: ref.host, repository: ref.repository, digest: l.digest },
          { ...(readOptions.abortSignal === undefined ? {} : { abortSignal: readOptions.abortSignal }), expectedSize: l.size, maxBytes: readOptions.limits.maxLayerBytes }
        );
        return readLayer(stream, analyzers, readOptions);
      }
    }))
  };
}

/** An image by tag or digest: resolves an index to one platform (`platforms`, default linux/amd64). */
export async function registryReferenceSource(
  registry: RegistryClient,
  ref: RegistryImageRef & { readonly reference: string },
  options: { readonly limits: ScanLimits; readonly platforms: readonly PlatformFilter[]; readonly abortSignal?: AbortSignal }
): Promise<ImageSource> {
  const signal = options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal };
  const what = `${ref.host}/${ref.repository}:${ref.reference}`;
  let manifest = await registry.getManifest(ref, signal);
  let facts = parseManifest(manifest.bytes, manifest.mediaType, what);
  if (facts.kind === "index") {
    const child = pickChild(facts.children, options.platforms, what);
    manifest = await registry.getManifest({ ...ref, reference: child.digest }, signal);
    facts = parseManifest(manifest.bytes, manifest.mediaType, what);
    if (facts.kind === "index") throw new ScanhookError("IMAGE.INVALID", `${what}: an index inside an index is not supported`);
  }
  return registryImageSource(registry, { host: ref.host, repository: ref.repository, digest: manifest.digest }, facts, options);
}
