import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import type { Digest } from "../../domain/digest.js";
import { isDigest } from "../../domain/digest.js";
import { ScanhookError } from "../../domain/errors.js";
import type { IndexChild, LayerFact, ManifestFacts } from "../../domain/manifest.js";
import { classifyManifest } from "../../domain/manifest.js";

/** Helpers every image source shares: manifests, configs, platforms, verification. */

export interface ImageManifest {
  readonly configDigest: Digest;
  readonly layers: readonly LayerFact[];
}

/** Classifies manifest bytes: an image, or an index to pick a platform from. Anything else is an error. */
export function parseManifest(bytes: Buffer, mediaType: string, what: string): Extract<ManifestFacts, { kind: "image" | "index" }> {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ScanhookError("IMAGE.INVALID", `${what}: the manifest is not JSON`);
  }
  const classified = classifyManifest(json, mediaType);
  if (!classified.ok) throw new ScanhookError("IMAGE.INVALID", `${what}: not a manifest scanhook understands: ${classified.reason}`);
  if (classified.facts.kind === "artifact") throw new ScanhookError("IMAGE.NOT_AN_IMAGE", `${what} is not an image: ${classified.facts.skipReason}`);
  return classified.facts;
}

/** `rootfs.diff_ids` of an image config, when there is one per layer. */
export function diffIdsOf(configBytes: Buffer, layerCount: number): (Digest | undefined)[] {
  try {
    const json = JSON.parse(configBytes.toString("utf8")) as { rootfs?: { diff_ids?: unknown } };
    const ids = json.rootfs?.diff_ids;
    if (Array.isArray(ids) && ids.length === layerCount && ids.every(isDigest)) return ids;
  } catch {
    // A config that does not parse leaves layers attributed by their blob digest.
  }
  return Array.from({ length: layerCount }, () => undefined);
}

export interface PlatformFilter {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Parses `os/arch[/variant]`, comma-separated; empty = every platform. */
export function parsePlatforms(text: string): PlatformFilter[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const [os, architecture, variant] = s.split("/");
      if (os === undefined || architecture === undefined || os === "" || architecture === "") throw new ScanhookError("CLI.USAGE", `not a platform: ${JSON.stringify(s)} (expected os/arch[/variant])`);
      return { os, architecture, ...(variant === undefined || variant === "" ? {} : { variant }) };
    });
}

export function platformMatches(p: { os: string; architecture: string; variant?: string | undefined } | undefined, filters: readonly PlatformFilter[]): boolean {
  if (filters.length === 0) return true;
  if (p === undefined) return false;
  return filters.some((f) => f.os === p.os && f.architecture === p.architecture && (f.variant === undefined || f.variant === p.variant));
}

/** The child of an index to scan: the first matching the filters (default linux/amd64, else the first image). */
export function pickChild(children: readonly IndexChild[], filters: readonly PlatformFilter[], what: string): IndexChild {
  const images = children.filter((c) => c.skipReason === undefined);
  const wanted = filters.length > 0 ? filters : [{ os: "linux", architecture: "amd64" }];
  const chosen = images.find((c) => platformMatches(c.platform, wanted)) ?? (filters.length === 0 ? images[0] : undefined);
  if (chosen === undefined) throw new ScanhookError("IMAGE.NO_PLATFORM", `${what}: no platform manifest matches ${filters.map((f) => `${f.os}/${f.architecture}${f.variant === undefined ? "" : `/${f.variant}`}`).join(", ") || "any image"}`);
  return chosen;
}

/** Passes bytes through and fails at the end when their sha256 is not `digest` (`IMAGE.DIGEST_MISMATCH`). */
export function verifying(digest: Digest, what: string): Transform {
  const [algorithm, expected] = digest.split(":");
  const hash = createHash(algorithm === "sha512" ? "sha512" : "sha256");
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest("hex");
      callback(actual === expected ? null : new ScanhookError("IMAGE.DIGEST_MISMATCH", `${what}: content does not match its digest ${digest}`));
    }
  });
}

export function digestOf(bytes: Buffer, algorithm = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}` as Digest;
}
