import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BomSchema, readSbomFacts } from "./cyclonedx.js";
import { parsePurl } from "./purl.js";

const layer = `sha256:${"a".repeat(64)}`;

describe("readSbomFacts", () => {
  it("reads scanhook's own SBOM from its properties", () => {
    const read = readSbomFacts({
      bomFormat: "CycloneDX",
      specVersion: "1.5",
      metadata: { properties: [{ name: "scanhook:distribution", value: "Debian:12" }, { name: "scanhook:content-set-cpe", value: "rhel-9-for-x86_64-baseos-rpms" }] },
      components: [
        {
          type: "library",
          name: "bsdutils",
          version: "1:2.38.1-5+deb12u3",
          purl: "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?distro=debian-12",
          properties: [
            { name: "scanhook:analyzer", value: "os/dpkg" },
            { name: "scanhook:ecosystem", value: "Debian:12" },
            { name: "scanhook:source-name", value: "util-linux" },
            { name: "scanhook:source-version", value: "2.38.1-5+deb12u3" },
            { name: "scanhook:layer", value: layer }
          ]
        }
      ]
    });
    expect(read).toEqual({
      ok: true,
      foreign: false,
      facts: {
        distribution: "Debian:12",
        contentSetCpes: ["rhel-9-for-x86_64-baseos-rpms"],
        coverageGaps: [],
        packages: [
          {
            name: "bsdutils",
            version: "1:2.38.1-5+deb12u3",
            purl: "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?distro=debian-12",
            ecosystem: "Debian:12",
            source: { name: "util-linux", version: "2.38.1-5+deb12u3" },
            layer,
            analyzer: "os/dpkg"
          }
        ]
      }
    });
  });

  it("reads another tool's OS packages from purls, and says what they lack", () => {
    const read = readSbomFacts({
      bomFormat: "CycloneDX",
      specVersion: "1.4",
      components: [
        { type: "library", name: "libssl3", version: "3.0.11-1~deb12u2", purl: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12" },
        { type: "library", name: "libcrypto3", purl: "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&upstream=openssl&distro=alpine-3.19.1" },
        { type: "library", name: "openssl-libs", purl: "pkg:rpm/rocky/openssl-libs@3.0.7-24.el9?epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm&distro=rocky-9.3" },
        { type: "library", name: "zlib1g", purl: "pkg:deb/debian/zlib1g@1.2.13" },
        { type: "library", name: "mystery" },
        { type: "library", name: "scoped", purl: "pkg:npm/%40babel/core@7.0.0" }
      ]
    });
    if (!read.ok) throw new Error(read.reason);
    expect(read.foreign).toBe(true);
    expect(read.facts.distribution).toBe("Debian:12");
    expect(read.facts.packages.map((p) => [p.name, p.version, p.ecosystem, p.source])).toEqual([
      ["libssl3", "3.0.11-1~deb12u2", "Debian:12", { name: "openssl" }],
      ["libcrypto3", "3.1.4-r5", "Alpine:v3.19", { name: "openssl" }],
      ["openssl-libs", "1:3.0.7-24.el9", "Rocky Linux:9", { name: "openssl", version: "3.0.7-24.el9" }],
      ["zlib1g", "1.2.13", undefined, undefined],
      ["@babel/core", "7.0.0", "npm", undefined]
    ]);
    expect(read.facts.coverageGaps.map((g) => [g.kind, g.count])).toEqual([
      ["sbom-component-unidentified", 1],
      ["distro-unknown", 1],
      ["sbom-no-source-package", 1],
      ["sbom-no-layers", undefined]
    ]);
  });

  it("rejects what is not CycloneDX", () => {
    expect(readSbomFacts({ spdxVersion: "SPDX-2.3" })).toMatchObject({ ok: false });
  });
});

describe("parsePurl", () => {
  it.each([
    ["pkg:npm/%40angular/core@16.0.0", { type: "npm", namespace: "@angular", name: "core", version: "16.0.0" }],
    ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", { type: "maven", namespace: "org.apache.logging.log4j", name: "log4j-core", version: "2.14.1" }],
    ["pkg:golang/github.com/gin-gonic/gin@v1.9.0", { type: "golang", namespace: "github.com/gin-gonic", name: "gin", version: "v1.9.0" }],
    ["pkg:pypi/requests", { type: "pypi", namespace: undefined, name: "requests", version: undefined }]
  ])("%s", (input, expected) => {
    expect(parsePurl(input)).toMatchObject(expected);
  });
  it("refuses non-purls", () => {
    expect(parsePurl("npm:left-pad")).toBeUndefined();
    expect(parsePurl("pkg:npm/%E0%A4%A@1")).toBeUndefined();
  });
});

describe("readSbomFacts checks what it reads", () => {
  // Mostly the right types, sometimes another JSON value: near-misses are where validators differ.
  const other = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.string({ maxLength: 3 }));
  const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> => fc.oneof({ weight: 40, arbitrary: arb }, { weight: 1, arbitrary: other });
  const property = maybe(fc.record({ name: maybe(fc.string({ maxLength: 4 })), value: maybe(fc.string({ maxLength: 4 })) }, { requiredKeys: ["name"] }));
  const { component } = fc.letrec<{ component: unknown }>((tie) => ({
    component: maybe(
      fc.record(
        {
          type: maybe(fc.constantFrom("library", "application", "operating-system")),
          name: maybe(fc.string({ maxLength: 4 })),
          version: maybe(fc.string({ maxLength: 4 })),
          purl: maybe(fc.string({ maxLength: 4 })),
          properties: maybe(fc.array(property, { maxLength: 3 })),
          components: maybe(fc.array(tie("component"), { maxLength: 2 })),
          extra: fc.anything({ maxDepth: 1 })
        },
        { requiredKeys: [] }
      )
    )
  }));
  const bom = maybe(
    fc.record(
      {
        bomFormat: maybe(fc.constantFrom("CycloneDX", "CycloneDX", "CycloneDX", "SPDX")),
        specVersion: maybe(fc.constantFrom("1.5", "1.6")),
        metadata: maybe(fc.record({ properties: maybe(fc.array(property, { maxLength: 3 })), component }, { requiredKeys: [] })),
        components: maybe(fc.array(component, { maxLength: 4 }))
      },
      { requiredKeys: ["bomFormat", "specVersion"] }
    )
  );

  it("accepts exactly what the schema accepts, and reports the schema's first problem", () => {
    let rejected = 0;
    fc.assert(
      fc.property(bom, (doc) => {
        const read = readSbomFacts(doc);
        const schema = BomSchema.safeParse(doc);
        expect(read.ok).toBe(schema.success);
        if (!read.ok) {
          rejected++;
          expect(read.reason).toContain(`: ${schema.error?.issues[0]?.path.join(".") || "document"}: `);
        }
      }),
      { numRuns: 3000, seed: 9 }
    );
    // Both outcomes were exercised, or the comparison proves nothing.
    expect(rejected).toBeGreaterThan(300);
    expect(rejected).toBeLessThan(2700);
  });

  it("reads the document in place and checks any nesting depth, past what it reads", () => {
    const doc = { bomFormat: "CycloneDX", specVersion: "1.5", components: [{ name: "a", version: "1", extra: 1, properties: [{ name: "scanhook:analyzer", value: "os/dpkg" }] }] };
    const read = readSbomFacts(doc);
    expect(read.ok && read.facts.packages[0]?.name).toBe(doc.components[0]?.name);
    let deep: { components: unknown[] } = { components: [] };
    const root = { bomFormat: "CycloneDX", specVersion: "1.5", components: [deep] };
    for (let i = 0; i < 100_000; i++) {
      const next = { components: [] };
      deep.components.push(next);
      deep = next;
    }
    const deepRead = readSbomFacts(root);
    expect(deepRead.ok && deepRead.facts.coverageGaps).toContainEqual(expect.objectContaining({ kind: "sbom-truncated", count: 1 }));
    deep.components.push({ name: 7 });
    const refused = readSbomFacts(root);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/^not a CycloneDX JSON SBOM: components\.0(\.components\.0){100001}\.name: expected string, received number$/);
  });
});
