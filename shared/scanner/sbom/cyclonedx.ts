import { randomUUID } from "node:crypto";
import type { Digest } from "../../domain/digest.js";
import type { SbomFacts } from "../../domain/match.js";
import { SBOM_PROPERTIES, type InstalledPackage } from "../../domain/package.js";
import { VERSION } from "../../version.js";
import type { Distribution } from "../analyzer.js";

/**
 * The canonical SBOM (DESIGN principle 10): CycloneDX 1.5 JSON
 * (https://cyclonedx.org/docs/1.5/json/). One `library` component per installed package with its
 * purl and scanhook's facts as `scanhook:` properties (source package and version, layer, analyzer,
 * ecosystem); the distribution, content-set CPEs, analyzer versions and coverage gaps are
 * properties of `metadata`, the distribution also an `operating-system` component. What a package
 * owns (`files`) is not written: it only serves analyzers during the scan.
 */

export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json; version=1.5";

interface Property {
  readonly name: string;
  readonly value: string;
}

export interface CycloneDxBom {
  readonly bomFormat: "CycloneDX";
  readonly specVersion: "1.5";
  readonly serialNumber: string;
  readonly version: 1;
  readonly metadata: {
    readonly timestamp: string;
    readonly tools: { readonly components: readonly { readonly type: "application"; readonly name: string; readonly version: string }[] };
    readonly component: { readonly type: "container"; readonly "bom-ref": string; readonly name: string; readonly version?: string };
    readonly properties: readonly Property[];
  };
  readonly components: readonly {
    readonly type: "library" | "operating-system";
    readonly "bom-ref": string;
    readonly name: string;
    readonly version?: string;
    readonly purl?: string;
    readonly properties?: readonly Property[];
  }[];
}

/** Property name of a coverage gap in metadata: `scanhook:coverage-gap:<kind>`. */
const GAP_PREFIX = "scanhook:coverage-gap:";

export interface SbomInput {
  readonly subject: string;
  readonly digest: Digest | undefined;
  readonly facts: SbomFacts;
  readonly distribution: Distribution | undefined;
  readonly analyzers: Readonly<Record<string, string>>;
  readonly indexedAt: Date;
}

function packageProperties(p: InstalledPackage): Property[] {
  const props: Property[] = [{ name: SBOM_PROPERTIES.analyzer, value: p.analyzer }];
  if (p.ecosystem !== undefined) props.push({ name: SBOM_PROPERTIES.ecosystem, value: p.ecosystem });
  if (p.source !== undefined) {
    props.push({ name: SBOM_PROPERTIES.sourceName, value: p.source.name });
    if (p.source.version !== undefined) props.push({ name: SBOM_PROPERTIES.sourceVersion, value: p.source.version });
  }
  if (p.layer !== undefined) props.push({ name: SBOM_PROPERTIES.layer, value: p.layer });
  return props;
}

export function toCycloneDx(input: SbomInput): CycloneDxBom {
  const refs = new Map<string, number>();
  const uniqueRef = (base: string): string => {
    const n = refs.get(base) ?? 0;
    refs.set(base, n + 1);
    return n === 0 ? base : `${base}#${n + 1}`;
  };
  const metadata: Property[] = [];
  if (input.facts.distribution !== undefined) metadata.push({ name: SBOM_PROPERTIES.distribution, value: input.facts.distribution });
  for (const cpe of input.facts.contentSetCpes) metadata.push({ name: SBOM_PROPERTIES.contentSetCpe, value: cpe });
  for (const [name, version] of Object.entries(input.analyzers)) metadata.push({ name: SBOM_PROPERTIES.analyzerVersion, value: `${name}@${version}` });
  for (const gap of input.facts.coverageGaps) metadata.push({ name: `${GAP_PREFIX}${gap.kind}`, value: gap.detail });
  const os = input.distribution;
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: input.indexedAt.toISOString(),
      tools: { components: [{ type: "application", name: "scanhook", version: VERSION }] },
      component: { type: "container", "bom-ref": "image", name: input.subject, ...(input.digest === undefined ? {} : { version: input.digest }) },
      properties: metadata
    },
    components: [
      ...(os === undefined ? [] : [{ type: "operating-system" as const, "bom-ref": uniqueRef(`os:${os.id}`), name: os.id, ...(os.versionId === undefined ? {} : { version: os.versionId }) }]),
      ...input.facts.packages.map((p) => ({
        type: "library" as const,
        "bom-ref": uniqueRef(p.purl),
        name: p.name,
        version: p.version,
        purl: p.purl,
        properties: packageProperties(p)
      }))
    ]
  };
}
