import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { indexImage } from "../../shared/scanner/indexer.js";
import { readLayer } from "../../shared/scanner/layer.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { toCycloneDx } from "../../shared/scanner/sbom/cyclonedx.js";
import { toSpdx } from "../../shared/scanner/sbom/spdx.js";
import { readSbomFacts } from "../../shared/sbom/cyclonedx.js";
import { readOwnSbom } from "../../shared/sbom/own-form.js";
import { sha256, tar } from "../helpers/images.js";
import { storedSbomFacts } from "../helpers/sbom.js";

/** The SBOM validates against the published CycloneDX 1.5 and SPDX 2.3 schemas and reads back to the same facts. */

const schemaDir = join(process.cwd(), "node_modules/@cyclonedx/cyclonedx-library/res/schema");
const load = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

function ajv(): Ajv {
  const a = new Ajv({ strict: false, allErrors: true });
  (addFormats as unknown as (x: Ajv) => void)(a);
  return a;
}

async function sample() {
  const layer = gzipSync(
    tar({
      "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
      "var/lib/dpkg/status": "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nSource: bash (5.2.15-2)\nVersion: 5.2.15-2+b7\n"
    })
  );
  const index = await indexImage(
    { name: "registry.example/app", digest: undefined, layers: [{ digest: sha256(layer) as Digest, diffId: undefined, size: layer.length, read: (a, o) => readLayer(Readable.from([layer]), a, o) }] },
    { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, now: new Date("2026-11-23T00:00:00Z") }
  );
  return { index, bom: toCycloneDx({ subject: "registry.example/app", digest: `sha256:${"a".repeat(64)}` as Digest, facts: index.facts, distribution: index.distribution, analyzers: index.analyzers, indexedAt: new Date("2026-11-23T10:00:00.123Z") }) };
}

describe("SBOM", () => {
  it("CycloneDX 1.5 JSON validates against the published schema, with scanhook's properties", async () => {
    const { bom } = await sample();
    const a = ajv();
    for (const f of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) {
      const { $id: _id, ...schema } = load(join(schemaDir, f));
      a.addSchema(schema, `http://cyclonedx.org/schema/${f}`);
    }
    const validate = a.compile(load(join(schemaDir, "bom-1.5.SNAPSHOT.schema.json")));
    expect(validate(JSON.parse(JSON.stringify(bom))), JSON.stringify(validate.errors)).toBe(true);
    expect(bom.components.map((c) => c.purl ?? c.name)).toEqual(["debian", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12"]);
    expect(bom.components[2]?.properties).toEqual([
      { name: "scanhook:analyzer", value: "os/dpkg" },
      { name: "scanhook:ecosystem", value: "Debian:12" },
      { name: "scanhook:source-name", value: "bash" },
      { name: "scanhook:source-version", value: "5.2.15-2" },
      { name: "scanhook:layer", value: bom.components[2]?.properties?.find((p) => p.name === "scanhook:layer")?.value }
    ]);
    expect(bom.metadata.properties).toContainEqual({ name: "scanhook:distribution", value: "Debian:12" });
    expect(bom.metadata.properties).toContainEqual({ name: "scanhook:analyzer-version", value: "os/dpkg@1" });
  });

  it("reads back, as a rematch reads it, to the facts it was written from (files aside: they are not stored; the indexer's gaps are kept on the record)", async () => {
    const { index, bom } = await sample();
    const back = storedSbomFacts(JSON.stringify(bom));
    expect(back).toEqual({ ...index.facts, packages: index.facts.packages.map(({ files: _files, arch: _arch, ...p }) => p), coverageGaps: [] });
  });

  it("as the scanner stores it, is read by the rematch's own-form reader, to what the full read gives", async () => {
    const { bom } = await sample();
    const text = JSON.stringify(bom);
    const own = readOwnSbom(text);
    expect(own).toBeDefined();
    expect(own).toStrictEqual(readSbomFacts(JSON.parse(text)));
    expect(own?.ok && own.facts.packages.map((p) => [p.name, p.source?.name, p.layer])).toEqual([
      ["libc6", "glibc", bom.components[1]?.properties?.find((p) => p.name === "scanhook:layer")?.value],
      ["bash", "bash", bom.components[2]?.properties?.find((p) => p.name === "scanhook:layer")?.value]
    ]);
  });

  it("SPDX 2.3 JSON rendered from it validates against the SPDX 2.3 schema", async () => {
    const { bom } = await sample();
    const spdx = toSpdx(bom);
    const validate = ajv().compile(load(new URL("../fixtures/schemas/spdx-2.3.schema.json", import.meta.url).pathname));
    expect(validate(spdx), JSON.stringify(validate.errors)).toBe(true);
    expect((spdx.packages as { name: string; sourceInfo?: string }[]).map((p) => [p.name, p.sourceInfo])).toEqual([
      ["registry.example/app", undefined],
      ["debian", undefined],
      ["libc6", "built package from: glibc 2.36-9+deb12u4"],
      ["bash", "built package from: bash 5.2.15-2"]
    ]);
  });
});
