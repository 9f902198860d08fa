/**
 * Which media types name a manifest scanhook can follow and which name a blob. Registries report
 * blob traffic (layers, configs) with the same event actions as manifests: distribution sends a
 * `pull` per layer read. Only manifests and indexes identify an image.
 *
 * Sources: OCI image spec `media-types.md` (https://github.com/opencontainers/image-spec/blob/main/media-types.md)
 * and Docker's Image Manifest V2, Schema 2 (https://distribution.github.io/distribution/spec/manifest-v2-2/).
 */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/**
 * - `manifest`: one image (or an OCI artifact: what it is, the consumer learns from its config).
 * - `index`: a list of manifests, usually one per platform.
 * - `blob`: a layer, a config or anything else stored by digest that is not a manifest.
 * - `unknown`: neither, including Docker schema 1 manifests, which scanhook does not read.
 */
export type MediaTypeKind = "manifest" | "index" | "blob" | "unknown";

const KINDS: ReadonlyMap<string, MediaTypeKind> = new Map<string, MediaTypeKind>([
  [OCI_MANIFEST, "manifest"],
  [DOCKER_MANIFEST, "manifest"],
  [OCI_INDEX, "index"],
  [DOCKER_MANIFEST_LIST, "index"],
  // distribution reports every blob it serves or stores as application/octet-stream (observed).
  ["application/octet-stream", "blob"],
  ["application/vnd.oci.image.config.v1+json", "blob"],
  ["application/vnd.oci.empty.v1+json", "blob"],
  ["application/vnd.docker.container.image.v1+json", "blob"],
  ["application/vnd.docker.container.image.rootfs.diff+x-gtar", "blob"],
  ["application/vnd.docker.plugin.v1+json", "blob"],
  ["application/vnd.cncf.helm.config.v1+json", "blob"],
  ["application/vnd.cncf.helm.chart.content.v1.tar+gzip", "blob"]
]);

const BLOB_PREFIXES = ["application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs."];

/** Classifies a media type; parameters (`; charset=…`) and letter case are ignored. */
export function mediaTypeKind(mediaType: string): MediaTypeKind {
  const essence = (mediaType.split(";", 1)[0] ?? "").trim().toLowerCase();
  const known = KINDS.get(essence);
  if (known !== undefined) return known;
  return BLOB_PREFIXES.some((p) => essence.startsWith(p)) ? "blob" : "unknown";
}

/** True for an image manifest or an index: the things a registry event may name for scanhook. */
export function isManifestMediaType(mediaType: string): boolean {
  const kind = mediaTypeKind(mediaType);
  return kind === "manifest" || kind === "index";
}
