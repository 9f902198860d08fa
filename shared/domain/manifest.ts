import { z } from "zod";
import { isDigest, type Digest } from "./digest.js";

/**
 * What a manifest says, and whether it is an image to scan. Covers the OCI image manifest and
 * index (https://github.com/opencontainers/image-spec/blob/main/manifest.md, image-index.md) and
 * Docker's v2 schema 2 manifest and manifest list, which share their shape. Everything that is not
 * a runnable image — signatures, SBOMs and attestations attached as referrers, Helm charts,
 * buildx attestation entries — is an artifact, recorded and skipped with the reason.
 */

export const MANIFEST_MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json"
} as const;

/** Config media types of runnable images. */
const IMAGE_CONFIGS = new Set(["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"]);

/** Config media types that are known not to be images, with a reader's name for each. */
const KNOWN_ARTIFACT_CONFIGS: Readonly<Record<string, string>> = {
  "application/vnd.cncf.helm.config.v1+json": "a Helm chart",
  "application/vnd.oci.empty.v1+json": "an OCI artifact with an empty config",
  "application/vnd.dev.cosign.artifact.sig.v1+json": "a cosign signature",
  "application/vnd.cncf.notary.signature": "a Notary signature",
  "application/vnd.in-toto+json": "an in-toto attestation"
};

/** Layer media types that mark a signature stored in an image-shaped manifest (cosign's legacy form). */
const SIGNATURE_LAYERS: Readonly<Record<string, string>> = {
  "application/vnd.dev.cosign.simplesigning.v1+json": "a cosign signature",
  "application/vnd.dsse.envelope.v1+json": "an attestation (DSSE envelope)"
};

const digest = z.custom<Digest>(isDigest, { error: "expected a sha256:<64 hex> digest" });
const mediaType = z.string().min(1).max(255);
const size = z.int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const annotations = z.record(z.string(), z.string()).optional();

const descriptor = z.object({ mediaType, digest, size, annotations, artifactType: z.string().optional() });

const platform = z.object({
  os: z.string().min(1).max(64),
  architecture: z.string().min(1).max(64),
  variant: z.string().min(1).max(64).optional(),
  "os.version": z.string().max(128).optional()
});

/** Enough of any layout to tell which it is; the rest is checked per kind. */
const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaType.optional(),
  artifactType: mediaType.optional(),
  config: descriptor,
  layers: z.array(descriptor).max(10_000),
  subject: descriptor.optional(),
  annotations
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaType.optional(),
  artifactType: mediaType.optional(),
  manifests: z.array(descriptor.extend({ platform: platform.optional() })).max(10_000),
  subject: descriptor.optional(),
  annotations
});

export interface LayerFact {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
}

export interface PlatformFact {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface IndexChild {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly platform?: PlatformFact;
  /** Set for entries that are not images (buildx attestation manifests). */
  readonly skipReason?: string;
}

export type ManifestFacts =
  | { readonly kind: "image"; readonly mediaType: string; readonly configDigest: Digest; readonly configMediaType: string; readonly layers: readonly LayerFact[] }
  | { readonly kind: "index"; readonly mediaType: string; readonly children: readonly IndexChild[] }
  | { readonly kind: "artifact"; readonly mediaType: string; readonly skipReason: string; readonly artifactType?: string; readonly layers: readonly LayerFact[] };

export type ClassifyResult = { readonly ok: true; readonly facts: ManifestFacts } | { readonly ok: false; readonly reason: string };

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue === undefined || issue.path.length === 0 ? "manifest" : issue.path.map(String).join(".")}: ${issue?.message ?? "invalid"}`;
}

function platformOf(p: z.infer<typeof platform> | undefined): PlatformFact | undefined {
  if (p === undefined) return undefined;
  return { os: p.os, architecture: p.architecture, ...(p.variant === undefined ? {} : { variant: p.variant }) };
}

/**
 * Classifies a manifest the registry served with `servedMediaType` (the `Content-Type`; the
 * manifest's own `mediaType` field wins when present, as the spec asks).
 */
export function classifyManifest(json: unknown, servedMediaType: string): ClassifyResult {
  const declared = typeof json === "object" && json !== null && "mediaType" in json && typeof json.mediaType === "string" ? json.mediaType : undefined;
  const type = (declared ?? servedMediaType).split(";", 1)[0]?.trim().toLowerCase() ?? "";
  const isIndex =
    type === MANIFEST_MEDIA_TYPES.ociIndex ||
    type === MANIFEST_MEDIA_TYPES.dockerList ||
    (type !== MANIFEST_MEDIA_TYPES.ociManifest && typeof json === "object" && json !== null && "manifests" in json);

  if (isIndex) {
    const parsed = indexSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
    const index = parsed.data;
    if (index.artifactType !== undefined) {
      return { ok: true, facts: { kind: "artifact", mediaType: type, skipReason: `an artifact index (artifactType ${index.artifactType})`, artifactType: index.artifactType, layers: [] } };
    }
    const children = index.manifests.map((m): IndexChild => {
      const reference = m.annotations?.["vnd.docker.reference.type"];
      const p = platformOf(m.platform);
      const base = { digest: m.digest, mediaType: m.mediaType, ...(p === undefined ? {} : { platform: p }) };
      if (reference === "attestation-manifest") return { ...base, skipReason: "a buildx attestation manifest" };
      if (m.artifactType !== undefined) return { ...base, skipReason: `an artifact (artifactType ${m.artifactType})` };
      return base;
    });
    return { ok: true, facts: { kind: "index", mediaType: type, children } };
  }

  const parsed = imageManifestSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
  const manifest = parsed.data;
  const layers = manifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
  const configType = manifest.config.mediaType.toLowerCase();
  const artifact = (skipReason: string) =>
    ({
      ok: true,
      facts: {
        kind: "artifact",
        mediaType: type,
        skipReason,
        ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
        layers
      }
    }) as const;

  if (manifest.artifactType !== undefined) return artifact(`an artifact (artifactType ${manifest.artifactType})`);
  const known = KNOWN_ARTIFACT_CONFIGS[configType];
  if (known !== undefined) return artifact(`${known} (config ${configType})`);
  if (!IMAGE_CONFIGS.has(configType)) return artifact(`not an image: config media type ${configType}`);
  const signature = manifest.layers.map((l) => SIGNATURE_LAYERS[l.mediaType.toLowerCase()]).find((r) => r !== undefined);
  if (signature !== undefined) return artifact(signature);
  if (manifest.subject !== undefined) return artifact(`a referrer of ${manifest.subject.digest}`);
  return { ok: true, facts: { kind: "image", mediaType: type, configDigest: manifest.config.digest, configMediaType: configType, layers } };
}
