import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Digest } from "../../domain/digest.js";
import { isDigest } from "../../domain/digest.js";
import { ScanhookError } from "../../domain/errors.js";
import type { ImageSource } from "../indexer.js";
import { readLayer } from "../layer.js";
import type { ScanLimits } from "../limits.js";
import { diffIdsOf, digestOf, parseManifest, pickChild, verifying, type PlatformFilter } from "./common.js";

/**
 * An OCI image layout directory (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * `index.json` names the manifests (`org.opencontainers.image.ref.name` is the tag), blobs live
 * under `blobs/<algorithm>/<hex>`. Every blob is checked against its digest: manifests and configs
 * when read, layers while they stream.
 */

const REF_NAME = "org.opencontainers.image.ref.name";

async function readBlob(dir: string, digest: Digest, limit: number, what: string): Promise<Buffer> {
  const path = blobPath(dir, digest);
  const size = (await stat(path)).size;
  if (size > limit) throw new ScanhookError("SCAN.TOO_LARGE", `${what} is larger than the limit of ${limit} bytes`);
  const bytes = await readFile(path);
  if (digestOf(bytes, digest.split(":")[0]) !== digest) throw new ScanhookError("IMAGE.DIGEST_MISMATCH", `${what}: content does not match its digest ${digest}`);
  return bytes;
}

function blobPath(dir: string, digest: Digest): string {
  const [algorithm, hex] = digest.split(":");
  return join(dir, "blobs", algorithm ?? "", hex ?? "");
}

export async function ociLayoutSource(dir: string, tag: string | undefined, options: { readonly limits: ScanLimits; readonly platforms: readonly PlatformFilter[] }): Promise<ImageSource> {
  const what = `oci:${dir}${tag === undefined ? "" : `:${tag}`}`;
  let index: { manifests?: { digest?: unknown; mediaType?: unknown; annotations?: Record<string, unknown> }[] };
  try {
    index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as typeof index;
  } catch (e) {
    throw new ScanhookError("IMAGE.NOT_FOUND", `${what}: no readable index.json (${e instanceof Error ? e.message : String(e)})`);
  }
  const entries = index.manifests ?? [];
  const entry = tag === undefined ? (entries.length === 1 ? entries[0] : undefined) : entries.find((m) => m.annotations?.[REF_NAME] === tag);
  if (entry === undefined || !isDigest(entry.digest)) {
    throw new ScanhookError("IMAGE.NOT_FOUND", tag === undefined ? `${what}: the layout holds ${entries.length} manifests; name one with :<tag>` : `${what}: no manifest tagged ${tag}`);
  }
  let digest = entry.digest;
  let facts = parseManifest(await readBlob(dir, digest, options.limits.maxManifestBytes, what), typeof entry.mediaType === "string" ? entry.mediaType : "", what);
  if (facts.kind === "index") {
    const child = pickChild(facts.children, options.platforms, what);
    digest = child.digest;
    facts = parseManifest(await readBlob(dir, digest, options.limits.maxManifestBytes, what), child.mediaType, what);
    if (facts.kind === "index") throw new ScanhookError("IMAGE.INVALID", `${what}: an index inside an index is not supported`);
  }
  const diffIds = diffIdsOf(await readBlob(dir, facts.configDigest, options.limits.maxManifestBytes, `${what} config`), facts.layers.length);
  return {
    name: what,
    digest,
    layers: facts.layers.map((l, i) => ({
      digest: l.digest,
      diffId: diffIds[i],
      size: l.size,
      async read(analyzers, readOptions) {
        const file = createReadStream(blobPath(dir, l.digest));
        return readLayer(file.pipe(verifying(l.digest, `${what} layer ${i + 1}`)), analyzers, readOptions);
      }
    }))
  };
}
