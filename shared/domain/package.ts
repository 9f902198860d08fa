import type { Digest } from "./digest.js";

/**
 * An installed package as the indexer finds it and the matcher reads it back from the SBOM. The
 * SBOM (CycloneDX 1.5, DESIGN principle 10) is the one place it is stored: each package is a
 * component with its purl and the `scanhook:` properties below, so a stored SBOM can be matched
 * again without reading the image.
 */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  /** Package URL, with `distro=` for OS packages (https://github.com/package-url/purl-spec). */
  readonly purl: string;
  /**
   * The OSV ecosystem the package is matched in, with the release for distributions (`Debian:12`,
   * `Alpine:v3.20`, `Azure Linux:3`), plain for languages (`npm`, `PyPI`). Undefined when the
   * distribution is unknown: a coverage gap, never a guess.
   */
  readonly ecosystem: string | undefined;
  /** Source package (dpkg `Source:`, apk origin, source RPM name) and its version where it differs. */
  readonly source?: { readonly name: string; readonly version?: string };
  /** Diff id of the layer that introduced the package (the last layer that changed its database entry). */
  readonly layer?: Digest;
  /** `os/dpkg`, `os/apk`, `os/rpm`, `language/javascript/package-json` … */
  readonly analyzer: string;
  readonly arch?: string;
  /** Files the package owns (OS analyzers), so language analyzers can leave them alone; not stored in the SBOM. */
  readonly files?: readonly string[];
}

/** Names of scanhook's properties in the CycloneDX SBOM (components and metadata). */
export const SBOM_PROPERTIES = {
  sourceName: "scanhook:source-name",
  sourceVersion: "scanhook:source-version",
  layer: "scanhook:layer",
  analyzer: "scanhook:analyzer",
  ecosystem: "scanhook:ecosystem",
  /** metadata: the distribution's OSV ecosystem with release, e.g. `Debian:12` */
  distribution: "scanhook:distribution",
  /** metadata: one property per Red Hat content set CPE */
  contentSetCpe: "scanhook:content-set-cpe",
  /** metadata: one property per analyzer, value `name@version` */
  analyzerVersion: "scanhook:analyzer-version"
} as const;
