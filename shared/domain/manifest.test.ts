import { describe, expect, it } from "vitest";
import { classifyManifest, MANIFEST_MEDIA_TYPES } from "./manifest.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string, mediaType = "application/vnd.oci.image.layer.v1.tar+gzip") => ({ mediaType, digest: d(c), size: 100 });
const image = (config = "application/vnd.oci.image.config.v1+json", extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MANIFEST_MEDIA_TYPES.ociManifest,
  config: { mediaType: config, digest: d("c"), size: 10 },
  layers: [layer("1"), layer("2")],
  ...extra
});

describe("classifyManifest", () => {
  it("an OCI or Docker image manifest is an image with its config and layers", () => {
    expect(classifyManifest(image(), MANIFEST_MEDIA_TYPES.ociManifest)).toEqual({
      ok: true,
      facts: {
        kind: "image",
        mediaType: MANIFEST_MEDIA_TYPES.ociManifest,
        configDigest: d("c"),
        configMediaType: "application/vnd.oci.image.config.v1+json",
        layers: [layer("1"), layer("2")]
      }
    });
    const docker = { ...image("application/vnd.docker.container.image.v1+json"), mediaType: MANIFEST_MEDIA_TYPES.dockerManifest };
    expect(classifyManifest(docker, "application/json")).toMatchObject({ ok: true, facts: { kind: "image", mediaType: MANIFEST_MEDIA_TYPES.dockerManifest } });
  });

  it("an index lists its children with platforms; buildx attestation entries are skipped", () => {
    const index = {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPES.ociIndex,
      manifests: [
        { mediaType: MANIFEST_MEDIA_TYPES.ociManifest, digest: d("a"), size: 500, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: MANIFEST_MEDIA_TYPES.ociManifest, digest: d("b"), size: 500, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        {
          mediaType: MANIFEST_MEDIA_TYPES.ociManifest,
          digest: d("e"),
          size: 500,
          platform: { os: "unknown", architecture: "unknown" },
          annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d("a") }
        }
      ]
    };
    expect(classifyManifest(index, MANIFEST_MEDIA_TYPES.ociIndex)).toEqual({
      ok: true,
      facts: {
        kind: "index",
        mediaType: MANIFEST_MEDIA_TYPES.ociIndex,
        children: [
          { digest: d("a"), mediaType: MANIFEST_MEDIA_TYPES.ociManifest, platform: { os: "linux", architecture: "amd64" } },
          { digest: d("b"), mediaType: MANIFEST_MEDIA_TYPES.ociManifest, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
          { digest: d("e"), mediaType: MANIFEST_MEDIA_TYPES.ociManifest, platform: { os: "unknown", architecture: "unknown" }, skipReason: "a buildx attestation manifest" }
        ]
      }
    });
  });

  it.each([
    ["artifactType", image("application/vnd.oci.empty.v1+json", { artifactType: "application/spdx+json" }), /artifactType application\/spdx\+json/],
    ["Helm chart", image("application/vnd.cncf.helm.config.v1+json"), /Helm chart/],
    ["cosign signature", { ...image(), layers: [layer("3", "application/vnd.dev.cosign.simplesigning.v1+json")] }, /cosign signature/],
    ["referrer", image("application/vnd.oci.image.config.v1+json", { subject: { mediaType: MANIFEST_MEDIA_TYPES.ociManifest, digest: d("f"), size: 1 } }), /referrer of/],
    ["unknown config", image("application/vnd.example.thing+json"), /not an image: config media type/]
  ])("a %s is an artifact, skipped with the reason", (_name, manifest, reason) => {
    const r = classifyManifest(manifest, MANIFEST_MEDIA_TYPES.ociManifest);
    expect(r.ok && r.facts.kind).toBe("artifact");
    if (r.ok && r.facts.kind === "artifact") expect(r.facts.skipReason).toMatch(reason);
  });

  it.each([
    [{ schemaVersion: 1, name: "x" }, /schemaVersion/],
    [{ ...image(), layers: [{ mediaType: "x", digest: "sha256:nope", size: 1 }] }, /layers\.0\.digest/],
    ["not an object", /manifest/]
  ])("refuses a malformed manifest with the field: %#", (manifest, reason) => {
    const r = classifyManifest(manifest, MANIFEST_MEDIA_TYPES.ociManifest);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});
