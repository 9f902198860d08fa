import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMatcher, countBySeverity, type DetailedMatcher } from "../../shared/vulndb/match/matcher.js";
import type { VulnDb } from "../../shared/vulndb/db/reader.js";
import type { BuildReport } from "../../shared/vulndb/db/build.js";
import { dbFrom, facts, MODIFIED, osv, pkg } from "./support.js";

const now = new Date("2024-06-02T00:00:00Z");
const V3_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8
const V3_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"; // 5.4

const records: Record<string, unknown>[] = [
  // every range event kind, npm
  osv("GHSA-intr-fixd-0001", "npm", "left-pad", [{ introduced: "1.0.0" }, { fixed: "1.3.0" }, { introduced: "2.0.0" }, { fixed: "2.0.5" }], { severity: [{ type: "CVSS_V3", score: V3_CRITICAL }] }),
  osv("GHSA-last-affd-0002", "npm", "right-pad", [{ introduced: "0" }, { last_affected: "1.4.2" }]),
  { id: "GHSA-limt-0003-xxxx", modified: MODIFIED, affected: [{ package: { ecosystem: "npm", name: "mid-pad" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { limit: "2.0.0" }] }] }] },
  { id: "GHSA-vers-0004-xxxx", modified: MODIFIED, affected: [{ package: { ecosystem: "npm", name: "list-pad" }, versions: ["3.1.0", "3.1.4"] }] },
  // withdrawn
  osv("GHSA-wdrn-0005-xxxx", "npm", "left-pad", [{ introduced: "0" }], { withdrawn: "2024-04-01T00:00:00Z" }),
  // aliases: two records naming each other are one vulnerability; related merges nothing
  osv("PYSEC-2024-1", "PyPI", "requests", [{ introduced: "0" }, { fixed: "2.32.0" }], { aliases: ["GHSA-aaaa-bbbb-cccc", "CVE-2024-35195"] }),
  osv("GHSA-aaaa-bbbb-cccc", "PyPI", "Requests", [{ introduced: "2.0" }, { fixed: "2.31.5" }], {
    aliases: ["PYSEC-2024-1", "CVE-2024-35195"],
    related: ["GHSA-rltd-0000-0000"],
    database_specific: { severity: "MODERATE" }
  }),
  osv("GHSA-rltd-0000-0000", "PyPI", "requests", [{ introduced: "0" }], { related: ["GHSA-aaaa-bbbb-cccc"] }),
  // multiple affected entries for one package: the lowest fix above the installed version
  {
    id: "GHSA-mult-0006-xxxx",
    modified: MODIFIED,
    affected: [
      { package: { ecosystem: "npm", name: "multi" }, ranges: [{ type: "SEMVER", events: [{ introduced: "1.0.0" }, { fixed: "1.9.0" }] }] },
      { package: { ecosystem: "npm", name: "multi" }, ranges: [{ type: "SEMVER", events: [{ introduced: "1.2.0" }, { fixed: "1.5.0" }] }] }
    ]
  },
  // Debian: source packages, release scoping, binNMU, epoch; upstream ids
  osv("DSA-5500-1", "Debian:12", "util-linux", [{ introduced: "0" }, { fixed: "2.38.1-5+deb12u4" }], { upstream: ["CVE-2024-28085"] }),
  osv("CVE-2024-28085", "Debian:11", "util-linux", [{ introduced: "0" }, { fixed: "2.36.1-8+deb11u2" }], { severity: [{ type: "CVSS_V3", score: V3_MEDIUM }] }),
  osv("DLA-9000-1", "Debian:12", "binnmu-src", [{ introduced: "0" }, { fixed: "1.2-4" }], { upstream: ["CVE-2024-28085"] }),
  { id: "DLA-9001-1", modified: MODIFIED, affected: [{ package: { ecosystem: "Debian:12", name: "binnmu-src" }, versions: ["1.2-2", "1.2-3"] }] },
  osv("DLA-9003-1", "Debian:12", "binnmu-src", [{ introduced: "0" }, { fixed: "1.2-3" }]),
  osv("DSA-9002-1", "Debian:12", "epoch-src", [{ introduced: "0" }, { fixed: "1:2.0-1" }]),
  // Alpine by origin
  osv("ALPINE-CVE-2024-0001", "Alpine:v3.19", "openssl", [{ introduced: "0" }, { fixed: "3.1.4-r5" }], { affectedExtra: { ecosystem_specific: { severity: "high" } } }),
  // RPM families
  osv("RLSA-2024:0001", "Rocky Linux:9", "openssl", [{ introduced: "0" }, { fixed: "1:3.0.7-25.el9_3" }]),
  osv("ALSA-2024:0002", "AlmaLinux", "curl", [{ introduced: "0" }, { fixed: "7.76.1-26.el9_3.3" }]),
  osv("AZL-2024-0003", "Azure Linux:3", "glibc", [{ introduced: "0" }, { fixed: "2.38-8.azl3" }]),
  osv("SUSE-SU-2024:0004-1", "SUSE:SUSE Linux Enterprise Server 15 SP5", "kernel-source", [{ introduced: "0" }, { fixed: "5.14.21-150500.55.49.1" }], {
    affectedExtra: { ecosystem_specific: { binaries: [{ "kernel-default": "5.14.21-150500.55.49.1" }] } }
  }),
  osv("RHSA-2024:0005", "Red Hat:enterprise_linux:9::baseos", "openssl", [{ introduced: "0" }, { fixed: "1:3.0.7-27.el9" }], { upstream: ["CVE-2023-5678"] }),
  osv("RHSA-2024:0006", "Red Hat:enterprise_linux:9::appstream", "openssl", [{ introduced: "0" }, { fixed: "1:3.0.7-99.el9" }]),
  // Go stdlib
  { id: "GO-2024-0001", modified: MODIFIED, affected: [{ package: { ecosystem: "Go", name: "stdlib" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.21.8" }] }] }] },
  // an unreadable range: the version does not parse as SemVer
  { id: "GHSA-badr-0007-xxxx", modified: MODIFIED, affected: [{ package: { ecosystem: "npm", name: "odd" }, ranges: [{ type: "SEMVER", events: [{ introduced: "not-a-version" }] }] }] },
  // severity from an alias: the DLA has none, its upstream CVE has a vector
  osv("DLA-9100-1", "Debian:12", "sev-src", [{ introduced: "0" }], { upstream: ["CVE-2024-9100"] }),
  osv("CVE-2024-9100", "Debian:11", "sev-src", [{ introduced: "0" }], { severity: [{ type: "CVSS_V3", score: V3_CRITICAL }] })
];

let db: VulnDb;
let report: BuildReport;
let remove: () => void;
let matcher: DetailedMatcher;
beforeAll(async () => {
  ({ db, report, remove } = await dbFrom(records, { repositoryCpes: new Map([["rhel-9-for-x86_64-baseos-rpms", ["cpe:/o:redhat:enterprise_linux:9::baseos"]]]) }));
  matcher = createMatcher(db);
});
afterAll(() => remove());

const ids = (f: readonly { id: string }[]): string[] => f.map((x) => x.id).sort();

describe("OSV range events", () => {
  it.each([
    ["left-pad", "0.9.0", []],
    ["left-pad", "1.0.0", ["GHSA-intr-fixd-0001"]],
    ["left-pad", "1.2.9", ["GHSA-intr-fixd-0001"]],
    ["left-pad", "1.3.0", []],
    ["left-pad", "2.0.4", ["GHSA-intr-fixd-0001"]],
    ["left-pad", "2.0.5", []],
    ["right-pad", "1.4.2", ["GHSA-last-affd-0002"]],
    ["right-pad", "1.4.3", []],
    ["mid-pad", "1.9.9", ["GHSA-limt-0003-xxxx"]],
    ["mid-pad", "2.0.0", []],
    ["list-pad", "3.1.4", ["GHSA-vers-0004-xxxx"]],
    ["list-pad", "3.1.2", []]
  ])("%s %s → %j", (name, version, expected) => {
    expect(ids(matcher.match(facts([pkg(name, version, "npm")]), now).findings)).toEqual(expected);
  });

  it("names the fix that closes the interval, or none", () => {
    const [a] = matcher.match(facts([pkg("left-pad", "2.0.1", "npm")]), now).findings;
    expect(a).toMatchObject({ fixable: true, fixedVersion: "2.0.5", severity: "critical", score: 9.8, severitySource: "cvss_v3:GHSA-intr-fixd-0001" });
    const [b] = matcher.match(facts([pkg("right-pad", "1.0.0", "npm")]), now).findings;
    expect(b).toMatchObject({ fixable: false, severity: "unknown", severitySource: "none" });
    expect(b?.fixedVersion).toBeUndefined();
  });

  it("drops withdrawn records at build", () => {
    expect(db.vuln("GHSA-wdrn-0005-xxxx")).toBeUndefined();
    expect(report.withdrawn).toBe(1);
  });

  it("reports multiple affected entries once, with the lowest fix above the installed version", () => {
    const { findings } = matcher.match(facts([pkg("multi", "1.3.0", "npm")]), now);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.fixedVersion).toBe("1.5.0");
    expect(matcher.match(facts([pkg("multi", "1.6.0", "npm")]), now).findings[0]?.fixedVersion).toBe("1.9.0");
  });

  it("reports an unreadable advisory range as a coverage gap, not a silent no", () => {
    const out = matcher.match(facts([pkg("odd", "1.0.0", "npm")]), now);
    expect(out.findings).toEqual([]);
    expect(out.coverageGaps).toEqual([expect.objectContaining({ kind: "advisory-unreadable", count: 1 })]);
  });
});

describe("aliases, upstream, related", () => {
  it("merges records that name each other into one finding with every id; related merges nothing", () => {
    const { findings } = matcher.match(facts([pkg("requests", "2.31.0", "PyPI")]), now);
    expect(ids(findings)).toEqual(["CVE-2024-35195", "GHSA-rltd-0000-0000"]);
    const merged = findings.find((f) => f.id === "CVE-2024-35195");
    expect(merged?.aliases).toEqual(["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"]);
    // the GHSA entry's fix is lower than PYSEC's: the lowest above the installed version wins
    expect(merged).toMatchObject({ fixedVersion: "2.31.5", severity: "medium", severitySource: "rating:GHSA-aaaa-bbbb-cccc" });
  });

  it("matches PyPI names in PEP 503 normal form", () => {
    expect(ids(matcher.match(facts([pkg("Requests", "2.31.0", "PyPI")]), now).findings)).toEqual(["CVE-2024-35195", "GHSA-rltd-0000-0000"]);
  });

  it("lists upstream ids without merging", () => {
    const out = matcher.match(facts([pkg("bsdutils", "1:2.38.1-5+deb12u3", "Debian:12", { source: { name: "util-linux", version: "2.38.1-5+deb12u3" } })]), now);
    expect(out.findings).toEqual([
      expect.objectContaining({ id: "DSA-5500-1", upstreamIds: ["CVE-2024-28085"], aliases: [], sourcePackage: "util-linux", packageName: "bsdutils", ecosystem: "Debian:12" })
    ]);
  });

  it("takes the severity from an upstream record when the advisory has none", () => {
    const [f] = matcher.match(facts([pkg("sev", "1.0-1", "Debian:12", { source: { name: "sev-src" } })]), now).findings;
    expect(f).toMatchObject({ id: "DLA-9100-1", severity: "critical", score: 9.8, severitySource: "alias:cvss_v3:CVE-2024-9100" });
  });
});

describe("Debian and Ubuntu by source package", () => {
  it("scopes by release: a Debian:11 record never applies to Debian 12 and back", () => {
    const on11 = matcher.match(facts([pkg("bsdutils", "1:2.36.1-8+deb11u1", "Debian:11", { source: { name: "util-linux", version: "2.36.1-8+deb11u1" } })]), now);
    expect(ids(on11.findings)).toEqual(["CVE-2024-28085"]);
    const on13 = matcher.match(facts([pkg("bsdutils", "1:2.36.1-8", "Debian:13", { source: { name: "util-linux", version: "2.36.1-8" } })]), now);
    expect(on13.findings).toEqual([]);
    expect(on13.coverageGaps).toEqual([expect.objectContaining({ kind: "ecosystem-no-data", count: 1 })]);
  });

  it("reports one finding on each installed binary of the source, each naming it", () => {
    const binaries = ["bsdutils", "libblkid1", "mount"].map((n) => pkg(n, n === "bsdutils" ? "1:2.38.1-5+deb12u3" : "2.38.1-5+deb12u3", "Debian:12", { source: { name: "util-linux", version: "2.38.1-5+deb12u3" } }));
    const { findings } = matcher.match(facts(binaries), now);
    expect(findings.map((f) => [f.packageName, f.sourcePackage, f.id])).toEqual([
      ["bsdutils", "util-linux", "DSA-5500-1"],
      ["libblkid1", "util-linux", "DSA-5500-1"],
      ["mount", "util-linux", "DSA-5500-1"]
    ]);
    // one vulnerability on three binaries counts once; its severity comes from the upstream CVE record
    expect(countBySeverity(findings)).toEqual({ critical: 0, high: 0, medium: 1, low: 0, negligible: 0, unknown: 0 });
  });

  it("compares a binNMU by its source version, not the binary's", () => {
    const bin = pkg("libbin1", "1.2-3+b1", "Debian:12", { source: { name: "binnmu-src", version: "1.2-3" } });
    // source 1.2-3 is listed in DLA-9001-1's versions (the binary's 1.2-3+b1 is not), is before
    // DLA-9000-1's fix and is DLA-9003-1's fix
    expect(ids(matcher.match(facts([bin]), now).findings)).toEqual(["DLA-9000-1", "DLA-9001-1"]);
    // an SBOM with no source version: the binNMU suffix is removed
    const foreign = pkg("libbin1", "1.2-3+b1", "Debian:12", { source: { name: "binnmu-src" } });
    expect(ids(matcher.match(facts([foreign]), now).findings)).toEqual(["DLA-9000-1", "DLA-9001-1"]);
  });

  it("orders epochs: 1:1.9-1 is after 2.0-1 but before 1:2.0-1", () => {
    expect(ids(matcher.match(facts([pkg("e", "1:1.9-1", "Debian:12", { source: { name: "epoch-src", version: "1:1.9-1" } })]), now).findings)).toEqual(["DSA-9002-1"]);
    expect(matcher.match(facts([pkg("e", "1:2.0-1", "Debian:12", { source: { name: "epoch-src", version: "1:2.0-1" } })]), now).findings).toEqual([]);
  });
});

describe("other distribution families", () => {
  it("Alpine by origin", () => {
    const [f] = matcher.match(facts([pkg("libcrypto3", "3.1.4-r4", "Alpine:v3.19", { source: { name: "openssl" } })]), now).findings;
    expect(f).toMatchObject({ id: "ALPINE-CVE-2024-0001", sourcePackage: "openssl", fixedVersion: "3.1.4-r5", severity: "high", severitySource: "rating:ALPINE-CVE-2024-0001" });
    expect(matcher.match(facts([pkg("libcrypto3", "3.1.4-r5", "Alpine:v3.19", { source: { name: "openssl" } })]), now).findings).toEqual([]);
    expect(matcher.match(facts([pkg("libcrypto3", "3.1.4-r4", "Alpine:v3.18", { source: { name: "openssl" } })]), now).findings).toEqual([]);
  });

  it("Rocky Linux by source RPM, with the binary's epoch on the source version", () => {
    const libs = pkg("openssl-libs", "1:3.0.7-24.el9", "Rocky Linux:9", { source: { name: "openssl", version: "3.0.7-24.el9" } });
    expect(ids(matcher.match(facts([libs]), now).findings)).toEqual(["RLSA-2024:0001"]);
    const fixed = pkg("openssl-libs", "1:3.0.7-25.el9_3", "Rocky Linux:9", { source: { name: "openssl", version: "3.0.7-25.el9_3" } });
    expect(matcher.match(facts([fixed]), now).findings).toEqual([]);
  });

  it("AlmaLinux records without a release apply to every release", () => {
    expect(ids(matcher.match(facts([pkg("libcurl", "7.76.1-26.el9_3.2", "AlmaLinux:9", { source: { name: "curl" } })]), now).findings)).toEqual(["ALSA-2024:0002"]);
  });

  it("Azure Linux by source RPM", () => {
    expect(ids(matcher.match(facts([pkg("glibc-devel", "2.38-7.azl3", "Azure Linux:3", { source: { name: "glibc" } })]), now).findings)).toEqual(["AZL-2024-0003"]);
  });

  it("SUSE by source RPM, only for binaries the entry lists", () => {
    const eco = "SUSE:SUSE Linux Enterprise Server 15 SP5";
    const listed = pkg("kernel-default", "5.14.21-150500.55.44.1", eco, { source: { name: "kernel-source" } });
    const unlisted = pkg("kernel-docs", "5.14.21-150500.55.44.1", eco, { source: { name: "kernel-source" } });
    const { findings } = matcher.match(facts([listed, unlisted]), now);
    expect(findings.map((f) => f.packageName)).toEqual(["kernel-default"]);
  });

  it("Red Hat by the CPEs of the image's content sets, binary or source name", () => {
    const libs = pkg("openssl-libs", "1:3.0.7-24.el9", "Red Hat", { source: { name: "openssl", version: "3.0.7-24.el9" } });
    const out = matcher.match(facts([libs], { contentSetCpes: ["rhel-9-for-x86_64-baseos-rpms"] }), now);
    // appstream's RHSA-2024:0006 is another product stream: not this image's
    expect(out.findings).toEqual([expect.objectContaining({ id: "RHSA-2024:0005", ecosystem: "Red Hat:enterprise_linux:9::baseos", sourcePackage: "openssl", fixedVersion: "1:3.0.7-27.el9" })]);
    const direct = matcher.match(facts([libs], { contentSetCpes: ["cpe:/a:redhat:enterprise_linux:9::appstream"] }), now);
    expect(ids(direct.findings)).toEqual(["RHSA-2024:0006"]);
  });

  it("Red Hat without content sets, or with unmapped ones, is a coverage gap", () => {
    const libs = pkg("openssl-libs", "1:3.0.7-24.el9", "Red Hat", { source: { name: "openssl" } });
    const none = matcher.match(facts([libs]), now);
    expect(none.findings).toEqual([]);
    expect(none.coverageGaps).toEqual([expect.objectContaining({ kind: "redhat-unscoped", count: 1 })]);
    const unmapped = matcher.match(facts([libs], { contentSetCpes: ["some-unknown-repo"] }), now);
    expect(unmapped.coverageGaps[0]?.detail).toContain("some-unknown-repo");
  });

  it("a Go binary's stdlib against the Go stdlib records", () => {
    expect(ids(matcher.match(facts([pkg("stdlib", "go1.21.3", "Go")]), now).findings)).toEqual(["GO-2024-0001"]);
    expect(matcher.match(facts([pkg("stdlib", "go1.21.8", "Go")]), now).findings).toEqual([]);
  });
});

describe("coverage gaps", () => {
  it("counts each kind of what could not be assessed, and keeps the indexer's", () => {
    const indexerGap = { kind: "distro-eol", detail: "Debian 9 is past its end of life" };
    const out = matcher.match(
      facts(
        [
          pkg("mystery", "1.0", undefined),
          pkg("mystery2", "2.0", undefined),
          pkg("cabal-thing", "1.0", "Hackage"),
          pkg("serde", "1.0.0", "crates.io"),
          pkg("left-pad", "not.a.version", "npm"),
          pkg("openssl-libs", "1:3.0.7-24.el9", "Red Hat")
        ],
        { coverageGaps: [indexerGap] }
      ),
      now
    );
    expect(out.findings).toEqual([]);
    expect(out.coverageGaps.map((g) => [g.kind, g.count])).toEqual([
      ["distro-eol", undefined],
      ["ecosystem-unknown", 2],
      ["ecosystem-unsupported", 1],
      ["ecosystem-no-data", 1],
      ["version-unparseable", 1],
      ["redhat-unscoped", 1]
    ]);
    expect(out.dbVersion).toBe(db.version);
    expect(out.matchedAt).toBe(now.toISOString());
  });
});
