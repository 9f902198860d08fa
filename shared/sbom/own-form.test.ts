import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Digest } from "../domain/digest.js";
import type { InstalledPackage } from "../domain/package.js";
import { toCycloneDx } from "../scanner/sbom/cyclonedx.js";
import { readSbomFacts } from "./cyclonedx.js";
import { readOwnSbom } from "./own-form.js";

const layer = `sha256:${"a".repeat(64)}` as Digest;
const NOW = new Date("2026-11-23T10:00:00Z");

/** An SBOM's text as the scanner stores it (shared/scanner/scanner.ts). */
function written(packages: InstalledPackage[], extra: { distribution?: string; os?: boolean; cpes?: string[] } = {}): string {
  const bom = toCycloneDx({
    subject: "registry.example/app",
    digest: layer,
    facts: { distribution: extra.distribution, contentSetCpes: extra.cpes ?? [], packages, coverageGaps: [{ kind: "layer-unreadable", detail: 'a "quoted"\ndetail' }] },
    distribution: extra.os === true ? { id: "debian", versionId: "12", prettyName: undefined, ecosystem: "Debian:12", purlDistro: "debian-12" } : undefined,
    analyzers: { "os/dpkg": "1" },
    indexedAt: NOW
  });
  return JSON.stringify(bom);
}

/** What the full read makes of the text. */
const fullRead = (text: string) => readSbomFacts(JSON.parse(text));

const bsdutils: InstalledPackage = {
  name: "bsdutils",
  version: "1:2.38.1-5+deb12u3",
  purl: "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12",
  ecosystem: "Debian:12",
  source: { name: "util-linux", version: "2.38.1-5+deb12u3" },
  layer,
  analyzer: "os/dpkg"
};

describe("readOwnSbom", () => {
  it("reads the SBOM scanhook writes to exactly the facts the full read gives", () => {
    const text = written([bsdutils, { name: "libc6", version: "2.36-9+deb12u4", purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4", ecosystem: "Debian:12", source: { name: "glibc" }, analyzer: "os/dpkg" }, { name: "left-pad", version: "1.3.0", purl: "", ecosystem: undefined, analyzer: "lang/npm" }], {
      distribution: "Debian:12",
      os: true,
      cpes: ["cpe:/o:redhat:enterprise_linux:9::baseos"]
    });
    const read = readOwnSbom(text);
    expect(read).toStrictEqual(fullRead(text));
    expect(read?.ok && read.facts.packages.map((p) => p.name)).toEqual(["bsdutils", "libc6", "left-pad"]);
    expect(read?.ok && read.facts.contentSetCpes).toEqual(["cpe:/o:redhat:enterprise_linux:9::baseos"]);
    expect(readOwnSbom(written([]))).toStrictEqual(fullRead(written([])));
  });

  it("leaves to the full read every text not in the form it writes", () => {
    const text = written([bsdutils], { os: true });
    const cases: [string, string][] = [
      ["pretty-printed", JSON.stringify(JSON.parse(text), null, 2)],
      ["whitespace after the document", `${text}\n`],
      ["an escape in a string", text.replace('"name":"bsdutils"', '"name":"bsd\\u0075tils"')],
      ["a component field scanhook does not write", text.replace('"name":"bsdutils"', '"name":"bsdutils","group":"x"')],
      ["a property scanhook does not write", text.replace('{"name":"scanhook:layer"', '{"name":"x","value":"y"},{"name":"scanhook:layer"')],
      ["an empty property value, which reads as absent", text.replace('"value":"os/dpkg"', '"value":""')],
      ["a nested component", text.replace('"properties":[{"name":"scanhook:analyzer"', '"components":[],"properties":[{"name":"scanhook:analyzer"')],
      ["`components` twice, the first one in the head", text.replace('{"bomFormat"', '{"components":[],"bomFormat"')],
      ["another tool's component", text.replace(/\]\}$/, ',{"type":"library","name":"zlib","purl":"pkg:deb/debian/zlib@1"}]}')],
      ["a byte-order mark", `\ufeff${text}`]
    ];
    for (const [what, damaged] of cases) {
      expect(damaged, what).not.toBe(text);
      expect(readOwnSbom(damaged), what).toBeUndefined();
    }
    // Each is still an SBOM the full read takes (all but the byte-order mark, which JSON refuses).
    for (const [what, damaged] of cases.slice(0, -1)) expect(fullRead(damaged).ok, what).toBe(true);
  });

  it("names no layer that is not a digest, as the full read does", () => {
    const text = written([bsdutils]).replace(`"value":"${layer}"`, '"value":"sha256:nope"');
    const read = readOwnSbom(text);
    expect(read).toStrictEqual(fullRead(text));
    expect(read?.ok && read.facts.packages[0]?.layer).toBeUndefined();
  });

  /** A string JSON writes as its own text: no quote, no backslash, no control character. */
  const plain = (s: string): boolean => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
    }
    return true;
  };
  // Strings mostly plain, sometimes what the form cannot hold as text (quotes, escapes, control
  // characters, empty values): those SBOMs must go to the full read, the rest be recognized.
  const text = fc.oneof({ weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 20 }).filter(plain) }, { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: "binary" }) });
  const pkg: fc.Arbitrary<InstalledPackage> = fc
    .record({
      name: text,
      version: text,
      purl: text,
      ecosystem: fc.option(text, { nil: undefined }),
      source: fc.option(fc.record({ name: text, version: fc.option(text, { nil: undefined }) }), { nil: undefined }),
      layer: fc.option(fc.constantFrom(layer, `sha256:${"b".repeat(64)}` as Digest), { nil: undefined }),
      analyzer: text
    })
    .map((p) => ({
      name: p.name,
      version: p.version,
      purl: p.purl,
      analyzer: p.analyzer,
      ecosystem: p.ecosystem,
      ...(p.source === undefined ? {} : { source: p.source.version === undefined ? { name: p.source.name } : { name: p.source.name, version: p.source.version } }),
      ...(p.layer === undefined ? {} : { layer: p.layer })
    }));
  const sbom = fc.record({ packages: fc.array(pkg, { maxLength: 6 }), distribution: fc.option(text, { nil: undefined }), os: fc.boolean(), cpes: fc.array(text, { maxLength: 2 }) }).map((s) => written(s.packages, s));

  it("reads any SBOM it writes as the full read does, and recognizes every one whose strings are plain text", () => {
    let recognized = 0;
    let left = 0;
    fc.assert(
      fc.property(fc.array(pkg, { maxLength: 6 }), (packages) => {
        const t = written(packages);
        const read = readOwnSbom(t);
        const strings = packages.flatMap((p) => [p.name, p.version, p.purl, p.analyzer, p.ecosystem ?? "x", p.source?.name ?? "x", p.source?.version ?? "x"]);
        // Property values (all but name, version and purl) must be filled too: empty reads as absent.
        const values = packages.flatMap((p) => [p.analyzer, p.ecosystem, p.source?.name, p.source?.version].filter((v) => v !== undefined));
        if (strings.every(plain) && values.every((v) => v !== "")) {
          expect(read).toBeDefined();
          recognized++;
        }
        if (read === undefined) left++;
        else expect(read).toStrictEqual(fullRead(t));
      }),
      { numRuns: 1500, seed: 11 }
    );
    expect(recognized).toBeGreaterThan(300);
    expect(left).toBeGreaterThan(150);
  });

  it("never reads a damaged text differently from the full read, nor one that is not JSON", () => {
    // Edits where the form is decided: quotes, brackets, separators, keys, and letters in strings.
    const piece = fc.constantFrom('"', "\\", ",", ":", "[", "]", "{", "}", " ", "\n", "a", "0", '"x":1,', ',"components":[]', '{"name":"scanhook:layer","value":"x"}', "\u0000", "é");
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), insert: fc.option(piece, { nil: undefined }) });
    let recognized = 0;
    let refused = 0;
    fc.assert(
      fc.property(sbom, fc.array(edit, { minLength: 1, maxLength: 2 }), (original, edits) => {
        let t = original;
        for (const e of edits) {
          const at = e.at % (t.length + 1);
          t = t.slice(0, at) + (e.insert ?? "") + t.slice(at + e.cut);
        }
        const read = readOwnSbom(t);
        let json: unknown;
        try {
          json = JSON.parse(t);
        } catch {
          expect(read).toBeUndefined();
          refused++;
          return;
        }
        if (read !== undefined) {
          recognized++;
          expect(read).toStrictEqual(readSbomFacts(json));
        }
      }),
      { numRuns: 4000, seed: 12 }
    );
    // Both kinds of damage were made: texts JSON refuses, and texts still recognized.
    expect(refused).toBeGreaterThan(1000);
    expect(recognized).toBeGreaterThan(200);
  });
});
