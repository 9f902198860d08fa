import { afterEach, describe, expect, it } from "vitest";
import { createMatcher, type VulnData } from "../../shared/vulndb/match/matcher.js";
import { dbFrom, facts, osv, pkg } from "./support.js";

const now = new Date("2024-06-02T00:00:00Z");
const removers: (() => void)[] = [];
afterEach(() => removers.splice(0).forEach((r) => r()));

/** The DB as a matcher sees it, counting which packages' entries were read. */
function counting(db: VulnData): { data: VulnData; reads: string[]; records: string[] } {
  const reads: string[] = [];
  const records: string[] = [];
  const data: VulnData = {
    version: db.version,
    ecosystemRecords: (e) => db.ecosystemRecords(e),
    affected: (e, n) => {
      reads.push(n);
      return db.affected(e, n);
    },
    packageHash: (e, n) => db.packageHash(e, n),
    vuln: (id) => {
      records.push(id);
      return db.vuln(id);
    },
    cpesOfRepository: (r) => db.cpesOfRepository(r)
  };
  return { data, reads, records };
}

describe("a matcher for the next DB version", () => {
  it("keeps what the previous one compiled for packages the update left alone, and finds what a fresh matcher finds", async () => {
    const before = [
      osv("DEBIAN-CVE-2024-0001", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u2" }]),
      osv("DEBIAN-CVE-2024-0002", "Debian:12", "zlib", [{ introduced: "0" }, { fixed: "1:1.2.13.dfsg-1" }])
    ];
    // The update moves zlib's fix past the installed version; openssl's entries stay as they were.
    const after = [before[0] as object, osv("DEBIAN-CVE-2024-0002", "Debian:12", "zlib", [{ introduced: "0" }, { fixed: "1:1.2.13.dfsg-2" }], { modified: "2024-06-01T00:00:00Z" })];
    const a = await dbFrom(before);
    const b = await dbFrom(after);
    removers.push(a.remove, b.remove);
    const sbom = facts([pkg("libssl3", "3.0.11-1~deb12u1", "Debian:12", { source: { name: "openssl", version: "3.0.11-1~deb12u1" } }), pkg("zlib1g", "1:1.2.13.dfsg-1", "Debian:12", { source: { name: "zlib", version: "1:1.2.13.dfsg-1" } })]);

    const first = createMatcher(a.db);
    expect(first.match(sbom, now).findings.map((f) => f.id)).toEqual(["DEBIAN-CVE-2024-0001"]);

    const { data, reads } = counting(b.db);
    const next = createMatcher(data, { previous: first });
    const carried = next.match(sbom, now);
    expect(reads).toEqual(["zlib"]);
    expect(carried.findings).toEqual(createMatcher(b.db).match(sbom, now).findings);
    expect(carried.findings.map((f) => f.id)).toEqual(["DEBIAN-CVE-2024-0001", "DEBIAN-CVE-2024-0002"]);
  });

  it("works a package out again when a record its findings read changed, even with the same entries", async () => {
    const events = [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u2" }];
    // A Debian record without severity takes its upstream CVE record's; the update rates that CVE.
    const before = [osv("DEBIAN-CVE-2024-0001", "Debian:12", "openssl", events, { aliases: ["CVE-2024-0001"] }), osv("CVE-2024-0001", "Debian:11", "openssl", events)];
    const after = [before[0] as object, osv("CVE-2024-0001", "Debian:11", "openssl", events, { modified: "2024-06-01T00:00:00Z", severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }] })];
    const a = await dbFrom(before);
    const b = await dbFrom(after);
    removers.push(a.remove, b.remove);
    const sbom = facts([pkg("libssl3", "3.0.11-1~deb12u1", "Debian:12", { source: { name: "openssl", version: "3.0.11-1~deb12u1" } })]);
    const first = createMatcher(a.db);
    expect(first.match(sbom, now).findings.map((f) => f.severity)).toEqual(["unknown"]);
    const { data, reads } = counting(b.db);
    const carried = createMatcher(data, { previous: first }).match(sbom, now);
    expect(reads).toEqual(["openssl"]);
    expect(carried.findings).toEqual(createMatcher(b.db).match(sbom, now).findings);
    expect(carried.findings.map((f) => f.severity)).toEqual(["critical"]);
  });

  it("keeps the findings of records an update left alone in a package it changed", async () => {
    const one = osv("DEBIAN-CVE-2024-0001", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u2" }]);
    const two = osv("DEBIAN-CVE-2024-0002", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u3" }]);
    const twoAgain = osv("DEBIAN-CVE-2024-0002", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u4" }], { modified: "2024-06-01T00:00:00Z" });
    const a = await dbFrom([one, two]);
    const b = await dbFrom([one, twoAgain]);
    removers.push(a.remove, b.remove);
    const sbom = facts([pkg("libssl3", "3.0.11-1~deb12u1", "Debian:12", { source: { name: "openssl", version: "3.0.11-1~deb12u1" } })]);
    const first = createMatcher(a.db);
    first.match(sbom, now);
    const { data, reads, records } = counting(b.db);
    const carried = createMatcher(data, { previous: first }).match(sbom, now);
    expect(reads).toEqual(["openssl"]);
    expect(records).not.toContain("DEBIAN-CVE-2024-0001");
    expect(carried.findings).toEqual(createMatcher(b.db).match(sbom, now).findings);
    expect(carried.findings.map((f) => [f.id, f.fixedVersion])).toEqual([
      ["DEBIAN-CVE-2024-0001", "3.0.11-1~deb12u2"],
      ["DEBIAN-CVE-2024-0002", "3.0.11-1~deb12u4"]
    ]);
  });

  it("holds on to the matcher before it only: that one lets go of its own predecessor", async () => {
    const record = osv("DEBIAN-CVE-2024-0001", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u2" }]);
    const a = await dbFrom([record]);
    const b = await dbFrom([record]);
    removers.push(a.remove, b.remove);
    const sbom = facts([pkg("libssl3", "3.0.11-1~deb12u1", "Debian:12", { source: { name: "openssl", version: "3.0.11-1~deb12u1" } })]);
    const first = createMatcher(a.db);
    first.match(sbom, now);
    const { data, reads } = counting(b.db);
    const second = createMatcher(data, { previous: first });
    // A third version arrives before the second matched anything: the second no longer reaches
    // the first (kept alive otherwise, and every version before it), so it reads openssl itself.
    createMatcher(b.db, { previous: second });
    expect(second.match(sbom, now).findings).toEqual(first.match(sbom, now).findings);
    expect(reads).toEqual(["openssl"]);
  });
});
