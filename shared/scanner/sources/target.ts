import { ScanhookError } from "../../domain/errors.js";
import type { RegistryClient } from "../../registry/port.js";
import type { ImageSource } from "../indexer.js";
import type { ScanLimits } from "../limits.js";
import type { PlatformFilter } from "./common.js";
import { directorySource } from "./directory.js";
import { dockerArchiveSource } from "./docker-archive.js";
import { ociLayoutSource } from "./oci-layout.js";
import { registryReferenceSource } from "./registry.js";

/**
 * Opens what `scanhook sbom <target>` names: `dir:<rootfs>`, `oci:<layout>[:tag]`,
 * `docker-archive:<tar>`, or `<registry>/<repo>[:tag|@digest]` (the registry must be in
 * `REGISTRIES`; a name without a registry host is refused rather than sent to Docker Hub).
 */

export interface TargetOptions {
  readonly limits: ScanLimits;
  readonly platforms: readonly PlatformFilter[];
  /** Needed for registry targets only. */
  readonly registry?: RegistryClient;
  readonly abortSignal?: AbortSignal;
}

function usage(message: string): ScanhookError {
  return new ScanhookError("CLI.USAGE", message);
}

const REFERENCE = /^([^/]+)\/(.+?)(?:@(sha(?:256|512):[a-f0-9]+)|:([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/;

/** The registry host a registry target names (`host[:port]`, lowercase), or undefined for other targets. */
export function registryHostOfTarget(target: string): string | undefined {
  if (/^(dir|oci|docker-archive|sbom):/.test(target)) return undefined;
  const host = REFERENCE.exec(target)?.[1];
  return host !== undefined && /[.:]|^localhost$/.test(host) ? host.toLowerCase() : undefined;
}

export async function openImageSource(target: string, options: TargetOptions): Promise<ImageSource> {
  if (target.startsWith("dir:")) return directorySource(target.slice(4));
  if (target.startsWith("docker-archive:")) return dockerArchiveSource(target.slice("docker-archive:".length), options);
  if (target.startsWith("oci:")) {
    const rest = target.slice(4);
    // oci:<dir>[:tag]; a tag has no `/`, so the last `:` is a tag only when nothing after it is a path.
    const colon = rest.lastIndexOf(":");
    const tag = colon > 0 && !rest.slice(colon + 1).includes("/") ? rest.slice(colon + 1) : undefined;
    return ociLayoutSource(tag === undefined ? rest : rest.slice(0, colon), tag, options);
  }
  const m = REFERENCE.exec(target);
  if (m?.[1] === undefined || m[2] === undefined || !/[.:]|^localhost$/.test(m[1])) {
    throw usage(`not a target: ${JSON.stringify(target)} (dir:<rootfs>, oci:<layout>[:tag], docker-archive:<tar> or <registry>/<repo>[:tag|@digest])`);
  }
  if (options.registry === undefined) throw usage("registry targets need REGISTRIES to list the registry");
  return registryReferenceSource(options.registry, { host: m[1], repository: m[2], reference: m[3] ?? m[4] ?? "latest" }, options);
}
