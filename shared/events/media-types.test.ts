import { describe, expect, it } from "vitest";
import { isManifestMediaType, mediaTypeKind, type MediaTypeKind } from "./media-types.js";

describe("mediaTypeKind", () => {
  it.each<[string, MediaTypeKind]>([
    ["application/vnd.oci.image.manifest.v1+json", "manifest"],
    ["application/vnd.docker.distribution.manifest.v2+json", "manifest"],
    ["application/vnd.oci.image.index.v1+json", "index"],
    ["application/vnd.docker.distribution.manifest.list.v2+json", "index"],
    ["Application/VND.OCI.Image.Manifest.v1+JSON; charset=utf-8", "manifest"],
    ["application/octet-stream", "blob"],
    ["application/vnd.oci.image.layer.v1.tar+gzip", "blob"],
    ["application/vnd.oci.image.layer.v1.tar+zstd", "blob"],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "blob"],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", "blob"],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "blob"],
    ["application/vnd.oci.image.config.v1+json", "blob"],
    ["application/vnd.docker.container.image.v1+json", "blob"],
    ["application/vnd.oci.empty.v1+json", "blob"],
    ["application/vnd.cncf.helm.chart.content.v1.tar+gzip", "blob"],
    ["application/vnd.docker.distribution.manifest.v1+prettyjws", "unknown"],
    ["application/vnd.docker.distribution.manifest.v1+json", "unknown"],
    ["application/vnd.acr.helm.chart", "unknown"],
    ["text/plain", "unknown"],
    ["", "unknown"]
  ])("%s → %s", (mediaType, kind) => {
    expect(mediaTypeKind(mediaType)).toBe(kind);
    expect(isManifestMediaType(mediaType)).toBe(kind === "manifest" || kind === "index");
  });
});
