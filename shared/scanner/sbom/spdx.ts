import type { CycloneDxBom } from "./cyclonedx.js";
import { SBOM_PROPERTIES } from "../../domain/package.js";

/**
 * SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/) rendered from the canonical CycloneDX
 * SBOM, never from the image: one package for the image, which CONTAINS one package per
 * component, each with its purl as a `PACKAGE-MANAGER` external reference and its source package
 * in `sourceInfo`. The document namespace derives from the CycloneDX serial number.
 */

export const SPDX_MEDIA_TYPE = "application/spdx+json";

function spdxId(n: number): string {
  return `SPDXRef-Package-${n}`;
}

export function toSpdx(bom: CycloneDxBom): Record<string, unknown> {
  const image = bom.metadata.component;
  const prop = (props: readonly { name: string; value: string }[] | undefined, name: string): string | undefined => props?.find((p) => p.name === name)?.value;
  const packages = bom.components.map((c, i) => {
    const sourceName = prop(c.properties, SBOM_PROPERTIES.sourceName);
    const sourceVersion = prop(c.properties, SBOM_PROPERTIES.sourceVersion);
    return {
      SPDXID: spdxId(i + 1),
      name: c.name,
      ...(c.version === undefined ? {} : { versionInfo: c.version }),
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      primaryPackagePurpose: c.type === "operating-system" ? "OPERATING_SYSTEM" : "LIBRARY",
      ...(sourceName === undefined ? {} : { sourceInfo: `built package from: ${sourceName}${sourceVersion === undefined ? "" : ` ${sourceVersion}`}` }),
      ...(c.purl === undefined ? {} : { externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: c.purl }] })
    };
  });
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: image.name,
    documentNamespace: `https://scanhook.invalid/spdx/${bom.serialNumber.replace(/^urn:uuid:/, "")}`,
    creationInfo: {
      created: bom.metadata.timestamp.replace(/\.\d+Z$/, "Z"),
      creators: bom.metadata.tools.components.map((t) => `Tool: ${t.name}-${t.version}`)
    },
    packages: [
      {
        SPDXID: "SPDXRef-Image",
        name: image.name,
        ...(image.version === undefined ? {} : { versionInfo: image.version }),
        downloadLocation: "NOASSERTION",
        filesAnalyzed: false,
        primaryPackagePurpose: "CONTAINER"
      },
      ...packages
    ],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-Image" },
      ...packages.map((p) => ({ spdxElementId: "SPDXRef-Image", relationshipType: "CONTAINS", relatedSpdxElement: p.SPDXID }))
    ]
  };
}
