import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMatcher, type VulnData } from "../../shared/vulndb/match/matcher.js";
import { sourceOf, storeFacts } from "../../shared/vulndb/record-facts.js";
import { dbFrom, facts, pkg } from "./support.js";

/**
 * The DB keeps each record's facts (reported id, aliases, upstream ids, severity) with its entries,
 * and the matcher makes a finding from them without reading the record where that record alone
 * makes the finding. Here every finding and report made that way is held equal to the one made
 * from the records themselves (the same DB with the facts hidden), over records that name each
 * other, take severity from aliases, carry it on entries, or have none.
 */
const now = new Date("2024-06-02T00:00:00Z");
const POOL = ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "GHSA-aaaa-bbbb-cccc", "GHSA-dddd-eeee-ffff", "DEBIAN-CVE-2024-0001", "DSA-5001-1", "DLA-3001-1", "PYSEC-2024-1"];
const V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const V3_LOW = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
const V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

/** The same DB with the facts hidden: every finding is then made from the records. */
function withoutFacts(db: VulnData): { data: VulnData; reads: () => number } {
  let reads = 0;
  const data: VulnData = {
    version: db.version,
    ecosystemRecords: (e) => db.ecosystemRecords(e),
    affected: (e, n) => ({ ...db.affected(e, n), facts: undefined }),
    packageHash: (e, n) => db.packageHash(e, n),
    vuln: (id) => {
      reads++;
      return db.vuln(id);
    },
    cpesOfRepository: (r) => db.cpesOfRepository(r)
  };
  return { data, reads: () => reads };
}

const severity = fc.constantFrom(
  {},
  { severity: [{ type: "CVSS_V3", score: V3 }] },
  { severity: [{ type: "CVSS_V3", score: V3_LOW }] },
  { severity: [{ type: "CVSS_V4", score: V4 }] },
  { severity: [{ type: "CVSS_V4", score: V4 }, { type: "CVSS_V3", score: V3_LOW }] },
  { database_specific: { severity: "MODERATE" } },
  { severity: [{ type: "Ubuntu", score: "low" }] }
);
const entrySeverity = fc.constantFrom({}, {}, {}, { ecosystem_specific: { severity: "HIGH" } }, { severity: [{ type: "CVSS_V3", score: V3_LOW }] });
const events = fc.constantFrom(
  [{ introduced: "0" }, { fixed: "1.0-3" }],
  [{ introduced: "0" }, { fixed: "1.0-5" }],
  [{ introduced: "1.0-2" }, { fixed: "1.0-4" }, { introduced: "1.0-5" }, { fixed: "1.0-6" }],
  [{ introduced: "0" }, { last_affected: "1.0-4" }],
  [{ introduced: "1.0-1" }]
);
const entry = fc.record({ name: fc.constantFrom("util-linux", "zlib"), events, extra: entrySeverity });
const records = fc.uniqueArray(
  fc.record({
    id: fc.constantFrom(...POOL),
    aliases: fc.subarray(POOL, { maxLength: 2 }),
    upstream: fc.subarray(POOL, { maxLength: 2 }),
    severity,
    entries: fc.array(entry, { minLength: 1, maxLength: 2 })
  }),
  { minLength: 1, maxLength: 6, selector: (r) => r.id }
);

describe("findings from the record facts the DB keeps", () => {
  it("equal the findings made from the records, and read no record where each record stands alone", async () => {
    let fromFacts = 0;
    await fc.assert(
      fc.asyncProperty(records, fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 3, maxLength: 3 }), async (list, installed) => {
        const osvRecords = list.map((r) => ({
          schema_version: "1.6.0",
          id: r.id,
          modified: "2024-05-01T00:00:00Z",
          summary: `summary of ${r.id}`,
          aliases: r.aliases.filter((a) => a !== r.id),
          upstream: r.upstream.filter((a) => a !== r.id),
          ...r.severity,
          // OSV allows `severity` on the record or on its entries, not both.
          affected: r.entries.map((e) => ({
            package: { ecosystem: "Debian:12", name: e.name },
            ranges: [{ type: "ECOSYSTEM", events: e.events }],
            ...("severity" in e.extra && "severity" in r.severity ? {} : e.extra)
          }))
        }));
        const built = await dbFrom(osvRecords);
        try {
          const sbom = facts([
            pkg("bsdutils", `1:1.0-${installed[0] ?? 0}`, "Debian:12", { source: { name: "util-linux", version: `1.0-${installed[0] ?? 0}` } }),
            pkg("mount", `1.0-${installed[0] ?? 0}`, "Debian:12", { source: { name: "util-linux", version: `1.0-${installed[0] ?? 0}` } }),
            pkg("zlib1g", `1.0-${installed[1] ?? 0}`, "Debian:12", { source: { name: "zlib", version: `1.0-${installed[1] ?? 0}` } }),
            // Another version of the same source: one-record groups are shared between versions.
            pkg("libmount1", `1.0-${installed[2] ?? 0}`, "Debian:12", { source: { name: "util-linux", version: `1.0-${installed[2] ?? 0}` } })
          ]);
          const hidden = withoutFacts(built.db);
          const expected = createMatcher(hidden.data).matchDetailed(sbom, now);
          const counted = withoutFacts(built.db);
          const withFacts = createMatcher({ ...counted.data, affected: (e, n) => built.db.affected(e, n) });
          const actual = withFacts.match(sbom, now);
          expect(actual.findings).toEqual(expected.findings);
          // Again, each version alone: answers and groups remembered from the first match hold.
          for (const one of sbom.packages) expect(withFacts.match(facts([one]), now).findings).toEqual(expected.findings.filter((x) => x.packageName === one.name));
          expect(actual.coverageGaps).toEqual(expected.coverageGaps);
          expect(createMatcher(built.db).matchDetailed(sbom, now).detailed).toEqual(expected.detailed);
          if (actual.findings.length > 0 && counted.reads() === 0) fromFacts++;
        } finally {
          built.remove();
        }
      }),
      { numRuns: 80, seed: 11 }
    );
    // The facts were used, not only the records, or the comparison proves nothing.
    expect(fromFacts).toBeGreaterThan(10);
  }, 60_000);

  it("a record's group shared between versions keeps each version's fix", async () => {
    // 1.0-1 is hit by the first entry only (fix 1.0-5); 1.0-3 by both, and the second's fix is lower.
    const record = {
      schema_version: "1.6.0",
      id: "DSA-5001-1",
      modified: "2024-05-01T00:00:00Z",
      affected: [
        { package: { ecosystem: "Debian:12", name: "util-linux" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.0-5" }] }] },
        { package: { ecosystem: "Debian:12", name: "util-linux" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1.0-2" }, { fixed: "1.0-4" }] }] }
      ]
    };
    const built = await dbFrom([record]);
    try {
      const at = (v: string) => facts([pkg("mount", v, "Debian:12", { source: { name: "util-linux", version: v } })]);
      const matcher = createMatcher(built.db);
      const fixOf = (v: string) => matcher.match(at(v), now).findings.map((f) => f.fixedVersion);
      expect(fixOf("1.0-1")).toEqual(["1.0-5"]);
      expect(fixOf("1.0-3")).toEqual(["1.0-4"]);
      expect(fixOf("1.0-1")).toEqual(["1.0-5"]);
    } finally {
      built.remove();
    }
  });
});

describe("stored record facts", () => {
  it("drop the record's own id from a severity source, and sourceOf gives it back", () => {
    for (const source of ["cvss_v3:DSA-5001-1", "alias:cvss_v3:CVE-2024-0001", "rating:DSA-5001-1", "none"]) {
      const stored = storeFacts("DSA-5001-1", ["CVE-2024-0001", [], [], "high", 7.5, source]);
      expect(sourceOf(stored[5], "DSA-5001-1")).toBe(source);
    }
    expect(storeFacts("DSA-5001-1", ["DSA-5001-1", [], [], "high", null, "cvss_v3:DSA-5001-1"])).toEqual([0, 0, 0, "high", null, "cvss_v3:"]);
  });
});
