import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { indexImage, type ImageIndex, type ImageSource } from "../../shared/scanner/indexer.js";
import { readLayer } from "../../shared/scanner/layer.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { toCycloneDx } from "../../shared/scanner/sbom/cyclonedx.js";
import type { VulnDb } from "../../shared/vulndb/db/reader.js";
import { createMatcher } from "../../shared/vulndb/match/matcher.js";
import { sha256, tar, type Files } from "../helpers/images.js";
import { dbFrom, osv } from "../vulndb/support.js";
import { storedSbomFacts } from "../helpers/sbom.js";

/**
 * A Red Hat (UBI 8) image: its content manifest's content sets reach `SbomFacts.contentSetCpes`
 * as they are, and the matcher maps them to CPEs through the DB's repository-to-cpe.json map at
 * match time — so the finding is scoped to the image's product streams, and a stream the image
 * does not use gives nothing. The rpm database is the real RHEL 8 one in test/fixtures/rpmdb
 * (libuuid 2.32.1-42.el8_8 from util-linux).
 */

const NOW = new Date("2026-11-23T00:00:00Z");
// /etc/os-release of registry.access.redhat.com/ubi8/ubi-minimal:8.8, unchanged.
const UBI8_OS_RELEASE = `NAME="Red Hat Enterprise Linux"
VERSION="8.8 (Ootpa)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="8.8"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Red Hat Enterprise Linux 8.8 (Ootpa)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:8::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/8"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
`;
// The shape Red Hat's build system (atomic-reactor's content_manifest.json schema) writes.
const contentManifest = (sets: readonly string[]): string =>
  JSON.stringify({
    metadata: { icm_version: 1, icm_spec: "https://raw.githubusercontent.com/containerbuildsystem/atomic-reactor/master/atomic_reactor/schemas/content_manifest.json", image_layer_index: 0 },
    content_sets: sets,
    image_contents: []
  });
const BASEOS = "rhel-8-for-x86_64-baseos-rpms";
const APPSTREAM = "rhel-8-for-x86_64-appstream-rpms";
const PACKAGES = readFileSync(new URL("../fixtures/rpmdb/libuuid/Packages", import.meta.url));

function image(layers: readonly Files[]): ImageSource {
  const blobs = layers.map((f) => gzipSync(tar(f)));
  return {
    name: "ubi8",
    digest: undefined,
    layers: blobs.map((bytes) => ({ digest: sha256(bytes) as Digest, diffId: undefined, size: bytes.length, read: (analyzers, options) => readLayer(Readable.from([bytes]), analyzers, options) }))
  };
}

const index = (layers: readonly Files[]): Promise<ImageIndex> => indexImage(image(layers), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, now: NOW });

describe("Red Hat content sets → CPEs", () => {
  let db: VulnDb;
  let remove: () => void;
  beforeAll(async () => {
    ({ db, remove } = await dbFrom(
      [
        // util-linux's fix in the baseos stream: affects libuuid through its source RPM.
        osv("RHSA-2099:0001", "Red Hat:enterprise_linux:8::baseos", "util-linux", [{ introduced: "0" }, { fixed: "0:2.32.1-43.el8" }], { upstream: ["CVE-2099-0001"] }),
        // The same package in a stream this image does not use.
        osv("RHSA-2099:0002", "Red Hat:rhel_eus:8.6::baseos", "util-linux", [{ introduced: "0" }, { fixed: "0:2.32.1-99.el8_6" }])
      ],
      { repositoryCpes: new Map([[BASEOS, ["cpe:/o:redhat:enterprise_linux:8::baseos"]], [APPSTREAM, ["cpe:/a:redhat:enterprise_linux:8::appstream"]]]) }
    ));
  });
  afterAll(() => remove());

  const base: Files = { "etc/os-release": UBI8_OS_RELEASE, "var/lib/rpm/Packages": PACKAGES, "root/buildinfo/content_manifests/ubi8-minimal-container-8.8-1037.json": contentManifest([BASEOS, APPSTREAM]) };

  it("the indexer reports the content sets, the Red Hat ecosystem and redhat purls, without warnings", async () => {
    const r = await index([base]);
    expect(r.facts.distribution).toBe("Red Hat");
    expect(r.facts.contentSetCpes).toEqual([APPSTREAM, BASEOS]);
    expect(r.facts.coverageGaps).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.facts.packages).toEqual([
      expect.objectContaining({
        name: "libuuid",
        version: "2.32.1-42.el8_8",
        ecosystem: "Red Hat",
        source: { name: "util-linux", version: "2.32.1-42.el8_8" },
        purl: "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8"
      })
    ]);
  });

  it("the matcher maps them through the DB's repository-to-cpe map: only the image's streams match", async () => {
    const r = await index([base]);
    const outcome = createMatcher(db).match(r.facts, NOW);
    expect(outcome.findings).toEqual([expect.objectContaining({ id: "RHSA-2099:0001", ecosystem: "Red Hat:enterprise_linux:8::baseos", packageName: "libuuid", sourcePackage: "util-linux", fixedVersion: "0:2.32.1-43.el8" })]);
    expect(outcome.coverageGaps).toEqual([]);
  });

  it("the stored SBOM keeps the content sets, so a rematch scopes the same way", async () => {
    const r = await index([base]);
    const back = storedSbomFacts(JSON.stringify(toCycloneDx({ subject: "ubi8", digest: undefined, facts: r.facts, distribution: r.distribution, analyzers: r.analyzers, indexedAt: NOW })));
    expect(back.contentSetCpes).toEqual([APPSTREAM, BASEOS]);
    expect(createMatcher(db).match(back, NOW).findings.map((f) => f.id)).toEqual(["RHSA-2099:0001"]);
  });

  it("a content manifest deleted by a later layer no longer counts, and without one the image is unscoped (a gap, not clean)", async () => {
    const r = await index([base, { "root/buildinfo/content_manifests/.wh.ubi8-minimal-container-8.8-1037.json": "" }]);
    expect(r.facts.contentSetCpes).toEqual([]);
    const outcome = createMatcher(db).match(r.facts, NOW);
    expect(outcome.findings).toEqual([]);
    expect(outcome.coverageGaps).toEqual([expect.objectContaining({ kind: "redhat-unscoped", count: 1 })]);
  });

  it("a content set the map does not list is named in the gap", async () => {
    const r = await index([{ ...base, "root/buildinfo/content_manifests/ubi8-minimal-container-8.8-1037.json": contentManifest(["some-private-repo-rpms"]) }]);
    const outcome = createMatcher(db).match(r.facts, NOW);
    expect(outcome.findings).toEqual([]);
    expect(outcome.coverageGaps[0]?.detail).toContain("some-private-repo-rpms");
  });
});
