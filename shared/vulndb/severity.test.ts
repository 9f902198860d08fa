import { describe, expect, it } from "vitest";
import { parseOsvRecord, type OsvRecord, type OsvSeverity } from "./osv.js";
import { severityOf } from "./severity.js";

const V3_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8
const V4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"; // 9.3
const V4_MEDIUM = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"; // 5.3

/** A valid OSV record (checked by scanhook's schema). */
function record(fields: Record<string, unknown>): OsvRecord {
  const parsed = parseOsvRecord({ modified: "2024-05-01T00:00:00Z", ...fields });
  if (!parsed.ok) throw new Error(`fixture is not a valid OSV record: ${parsed.reason}`);
  return parsed.record;
}

/** The severity of a group of one record, its `affected[]` entries all matched. */
function alone(r: OsvRecord, lookup: readonly OsvRecord[] = []) {
  return severityOf({ records: [{ record: r, entries: r.affected ?? [] }], lookup: (id) => lookup.find((x) => x.id === id) });
}

const v4 = (score: string): OsvSeverity => ({ type: "CVSS_V4", score });
const v3 = (score: string): OsvSeverity => ({ type: "CVSS_V3", score });

describe("severityOf with CVSS v4.0", () => {
  it("scores a record whose only vector is v4.0, and names the source", () => {
    expect(alone(record({ id: "GHSA-only-v4v4-0001", severity: [v4(V4_CRITICAL)] }))).toEqual({ severity: "critical", score: 9.3, source: "cvss_v4:GHSA-only-v4v4-0001" });
    expect(alone(record({ id: "GHSA-only-v4v4-0002", severity: [v4(V4_MEDIUM)] }))).toEqual({ severity: "medium", score: 5.3, source: "cvss_v4:GHSA-only-v4v4-0002" });
  });

  it("scores a v4.0 vector on the matched affected entry", () => {
    const r = record({ id: "GHSA-entr-v4v4-0003", affected: [{ package: { ecosystem: "npm", name: "left-pad" }, versions: ["1.0.0"], severity: [v4(V4_MEDIUM)] }] });
    expect(alone(r)).toEqual({ severity: "medium", score: 5.3, source: "cvss_v4:GHSA-entr-v4v4-0003" });
  });

  it("prefers a v3 vector when the record has both, whatever their order", () => {
    expect(alone(record({ id: "GHSA-both-v3v4-0004", severity: [v4(V4_MEDIUM), v3(V3_CRITICAL)] }))).toEqual({ severity: "critical", score: 9.8, source: "cvss_v3:GHSA-both-v3v4-0004" });
  });

  it("prefers a v4.0 score to the record's rating", () => {
    const r = record({ id: "GHSA-rate-v4v4-0005", severity: [v4(V4_MEDIUM)], database_specific: { severity: "CRITICAL" } });
    expect(alone(r)).toEqual({ severity: "medium", score: 5.3, source: "cvss_v4:GHSA-rate-v4v4-0005" });
  });

  it("falls back to the rating when the v4.0 vector does not parse", () => {
    const r = record({ id: "GHSA-badv-v4v4-0006", severity: [v4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N")], database_specific: { severity: "HIGH" } });
    expect(alone(r)).toEqual({ severity: "high", source: "rating:GHSA-badv-v4v4-0006" });
  });

  it("ranks aliases v3, then v4.0, then a rating", () => {
    const rated = record({ id: "GHSA-alia-rate-0007", database_specific: { severity: "LOW" } });
    const withV4 = record({ id: "GHSA-alia-v4v4-0008", severity: [v4(V4_MEDIUM)] });
    const withV3 = record({ id: "CVE-2024-0009", severity: [v3(V3_CRITICAL)] });
    const advisory = (aliases: string[]) => record({ id: "DLA-0010-1", aliases });
    expect(alone(advisory(["GHSA-alia-rate-0007", "GHSA-alia-v4v4-0008"]), [rated, withV4])).toEqual({ severity: "medium", score: 5.3, source: "alias:cvss_v4:GHSA-alia-v4v4-0008" });
    expect(alone(advisory(["GHSA-alia-v4v4-0008", "CVE-2024-0009"]), [withV4, withV3])).toEqual({ severity: "critical", score: 9.8, source: "alias:cvss_v3:CVE-2024-0009" });
  });

  it("keeps its own v4.0 score over an alias's v3", () => {
    const withV3 = record({ id: "CVE-2024-0011", severity: [v3(V3_CRITICAL)] });
    expect(alone(record({ id: "GHSA-own4-v4v4-0012", aliases: ["CVE-2024-0011"], severity: [v4(V4_MEDIUM)] }), [withV3])).toEqual({ severity: "medium", score: 5.3, source: "cvss_v4:GHSA-own4-v4v4-0012" });
  });
});
