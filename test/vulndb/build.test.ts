import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync, strToU8 } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { buildVulnDb, type OsvInput } from "../../shared/vulndb/db/build.js";
import { readDbInfo, VulnDb } from "../../shared/vulndb/db/reader.js";
import { readLocalSource } from "../../shared/vulndb/sources.js";
import { assertValidOsv, osv, tempDir, writeRecords } from "./support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir("build");
  cleanups.push(t.remove);
  return t.dir;
}
const at = new Date("2024-06-01T10:20:30Z");
const input = (path: string, name = `osv-dir:${path}`): OsvInput => ({ name, kind: "osv-dir", location: path, records: readLocalSource(path) });

describe("ingest", () => {
  it("skips every invalid record with a counted warning, never failing the build", async () => {
    const root = dir();
    const src = join(root, "src");
    writeRecords(src, [osv("GHSA-good-0001-xxxx", "npm", "a", [{ introduced: "0" }, { fixed: "1.0.0" }])]);
    const bad: object[] = [
      { id: "NO-MODIFIED-1" },
      { id: "BAD-EVENT-1", modified: "2024-01-01T00:00:00Z", affected: [{ package: { ecosystem: "npm", name: "a" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0", fixed: "1.0.0" }] }] }] },
      { id: "NO-INTRO-1", modified: "2024-01-01T00:00:00Z", affected: [{ package: { ecosystem: "npm", name: "a" }, ranges: [{ type: "SEMVER", events: [{ fixed: "1.0.0" }] }] }] },
      { id: "BOTH-1", modified: "2024-01-01T00:00:00Z", affected: [{ package: { ecosystem: "npm", name: "a" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1" }, { last_affected: "2" }] }] }] },
      { id: "BAD-TIME-1", modified: "yesterday" }
    ];
    writeRecords(src, bad, { unchecked: true });
    writeFileSync(join(src, "not-json.json"), "{ this is not json");
    const report = await buildVulnDb({ out: join(root, "db.sqlite"), inputs: [input(src)], now: at });
    expect(report.records).toBe(1);
    expect(report.warningCount).toBe(6);
    expect(report.warnings.map((w) => w.origin).sort()).toEqual(["BAD-EVENT-1.json", "BAD-TIME-1.json", "BOTH-1.json", "NO-INTRO-1.json", "NO-MODIFIED-1.json", "not-json.json"]);
    expect(report.warnings.find((w) => w.origin === "not-json.json")?.reason).toMatch(/^not JSON/);
    expect(report.sources[0]).toMatchObject({ records: 1, warnings: 6 });
  });

  it("the published schema rejects what ingest rejects (fixture check)", () => {
    expect(() => assertValidOsv({ id: "NO-MODIFIED-1" })).toThrow();
    expect(() => assertValidOsv(osv("GHSA-good-0001-xxxx", "npm", "a", [{ introduced: "0" }]))).not.toThrow();
  });

  it("reads zips (the OSV export's all.zip) and directories alike", async () => {
    const root = dir();
    const records = [osv("GHSA-zip1-0001-xxxx", "npm", "a", [{ introduced: "0" }]), osv("GHSA-zip2-0001-xxxx", "PyPI", "b", [{ introduced: "0" }])];
    const zip = join(root, "all.zip");
    writeFileSync(zip, zipSync(Object.fromEntries(records.map((r) => [`${String(r.id)}.json`, strToU8(JSON.stringify(r))])), { level: 6 }));
    const report = await buildVulnDb({ out: join(root, "db.sqlite"), inputs: [{ name: "osv-zip", kind: "osv-zip", location: zip, records: readLocalSource(zip) }], now: at });
    expect(report.records).toBe(2);
    const info = readDbInfo(join(root, "db.sqlite"));
    expect(info.ecosystems).toEqual({ PyPI: 1, npm: 1 });
  });

  it("keeps the newest copy of an id across sources, and a newer withdrawal removes it", async () => {
    const root = dir();
    const older = { ...osv("GHSA-same-0001-xxxx", "npm", "a", [{ introduced: "0" }]), modified: "2024-01-01T00:00:00Z", summary: "old" };
    const newer = { ...osv("GHSA-same-0001-xxxx", "npm", "a", [{ introduced: "0" }]), modified: "2024-02-01T00:00:00Z", summary: "new" };
    writeRecords(join(root, "a"), [newer]);
    writeRecords(join(root, "b"), [older]);
    const out = join(root, "db.sqlite");
    await buildVulnDb({ out, inputs: [input(join(root, "a")), input(join(root, "b"))], now: at });
    const db = VulnDb.open(out);
    expect(db.vuln("GHSA-same-0001-xxxx")?.summary).toBe("new");
    db.close();
    const withdrawn = { ...newer, modified: "2024-03-01T00:00:00Z", withdrawn: "2024-03-01T00:00:00Z" };
    writeRecords(join(root, "c"), [withdrawn]);
    const report = await buildVulnDb({ out, base: out, inputs: [input(join(root, "c"))], now: at });
    expect(report.withdrawn).toBe(1);
    expect(report.records).toBe(0);
  });

  it("versions the DB by build time and content hash: same content, same hash, whatever the source order", async () => {
    const root = dir();
    writeRecords(join(root, "a"), [osv("GHSA-aaaa-0001-xxxx", "npm", "a", [{ introduced: "0" }])]);
    writeRecords(join(root, "b"), [osv("GHSA-bbbb-0001-xxxx", "npm", "b", [{ introduced: "0" }])]);
    const one = await buildVulnDb({ out: join(root, "1.sqlite"), inputs: [input(join(root, "a"), "x"), input(join(root, "b"), "y")], now: at });
    const two = await buildVulnDb({ out: join(root, "2.sqlite"), inputs: [input(join(root, "b"), "x"), input(join(root, "a"), "y")], now: new Date("2024-07-01T00:00:00Z") });
    expect(one.version).toMatch(/^20240601T102030Z-[0-9a-f]{12}$/);
    expect(readDbInfo(join(root, "1.sqlite")).contentHash).not.toBe("");
    // the hash covers the records, not which source gave them or when the build ran
    expect(one.version.split("-")[1]).toBe(two.version.split("-")[1]);
    const info = readDbInfo(join(root, "1.sqlite"));
    expect(info).toMatchObject({ records: 2, builtAt: at.toISOString(), ecosystems: { npm: 2 } });
    expect(info.sources.map((s) => [s.name, s.watermark, s.records])).toEqual([
      ["x", "2024-05-01T00:00:00.000Z", 1],
      ["y", "2024-05-01T00:00:00.000Z", 1]
    ]);
  });

  it("refuses a file that is not a scanhook DB, and leaves no half-written output", async () => {
    const root = dir();
    const junk = join(root, "junk.sqlite");
    writeFileSync(junk, "not sqlite at all");
    expect(() => VulnDb.open(junk)).toThrow(/VULNDB|not a scanhook|cannot open|file is not a database/);
    await expect(buildVulnDb({ out: join(root, "x.sqlite"), base: junk, inputs: [], now: at })).rejects.toThrow();
    expect(() => readFileSync(join(root, "x.sqlite"))).toThrow();
  });
});
