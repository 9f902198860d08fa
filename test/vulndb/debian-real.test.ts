import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SbomFacts } from "../../shared/domain/match.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { indexImage } from "../../shared/scanner/indexer.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { directorySource } from "../../shared/scanner/sources/directory.js";
import { toCycloneDx } from "../../shared/scanner/sbom/cyclonedx.js";
import { readSbomFacts } from "../../shared/sbom/cyclonedx.js";
import { createMatcher } from "../../shared/vulndb/match/matcher.js";
import { storedSbomFacts } from "../helpers/sbom.js";
import { debianRootfs } from "../scanner/debian-rootfs.js";
import { dbFrom, MODIFIED } from "./support.js";

/**
 * The matcher against a real Debian 12 (the indexer's debootstrapped rootfs, cached once) and
 * advisories taken from that system's own history: every CVE named in its
 * `/usr/share/doc/<package>/changelog.Debian.gz` becomes an OSV record fixed at the changelog
 * entry that names it. The installed system already has every one of those fixes, so it reports
 * none; with each fix moved just past the installed source version it reports every one, on every
 * installed binary of the source package, whatever the binary is called. Which binary belongs to
 * which source, in which version, is what `dpkg-query` says — not the indexer under test.
 */

const run = promisify(execFile);
const CVE = /CVE-\d{4}-\d{4,}/g;
/** A changelog entry's first line: `util-linux (2.38.1-5+deb12u3) bookworm; urgency=medium`. */
const HEADER = /^([a-z0-9][a-z0-9+.-]+) \(([^)\s]+)\) [^;]*;/;

interface Binary {
  readonly name: string;
  readonly source: string;
  readonly sourceVersion: string;
}

/** (source, CVE) → the version of the oldest changelog entry naming the CVE: where it was fixed. */
function fixesFromChangelog(text: string): Map<string, { source: string; version: string }> {
  const fixes = new Map<string, { source: string; version: string }>();
  let current: { source: string; version: string } | undefined;
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header?.[1] !== undefined && header[2] !== undefined) {
      current = { source: header[1], version: header[2] };
      continue;
    }
    if (current === undefined || !line.startsWith(" ")) continue;
    // Newest entries come first: a later (older) entry naming the same CVE replaces the earlier.
    for (const cve of line.match(CVE) ?? []) fixes.set(`${current.source}\0${cve}`, current);
  }
  return fixes;
}

async function dpkgOrders(a: string, op: "le" | "lt", b: string): Promise<boolean> {
  try {
    await run("dpkg", ["--compare-versions", a, op, b]);
    return true;
  } catch {
    return false;
  }
}

function record(cve: string, affected: readonly { source: string; fixed: string }[]): object {
  return {
    schema_version: "1.6.0",
    id: `DEBIAN-${cve}`,
    modified: MODIFIED,
    upstream: [cve],
    affected: affected.map((a) => ({ package: { ecosystem: "Debian:12", name: a.source }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: a.fixed }] }] }))
  };
}

describe("a real Debian 12 against advisories from its own changelogs", () => {
  let facts: SbomFacts;
  /** The SBOM's text as the scanner stores it. */
  let stored: string;
  let binaries: Binary[];
  /** CVE → the source packages whose changelogs name it, with the version that fixed it. */
  const advisories = new Map<string, { source: string; fixed: string }[]>();
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const rootfs = await debianRootfs();
    const { stdout } = await run("dpkg-query", ["--admindir", join(rootfs, "var/lib/dpkg"), "-W", "-f", "${Package}\\t${source:Package}\\t${source:Version}\\n"]);
    binaries = stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const [name = "", source = "", sourceVersion = ""] = l.split("\t");
        return { name, source, sourceVersion };
      });
    const installed = new Map(binaries.map((b) => [b.source, b.sourceVersion]));
    const fixes = new Map<string, { source: string; version: string }>();
    const doc = join(rootfs, "usr/share/doc");
    for (const dir of readdirSync(doc)) {
      const file = join(doc, dir, "changelog.Debian.gz");
      if (!existsSync(file)) continue;
      for (const [key, fix] of fixesFromChangelog(gunzipSync(readFileSync(file)).toString("utf8"))) fixes.set(key, fix);
    }
    for (const [key, fix] of fixes) {
      const cve = key.split("\0")[1] ?? "";
      const at = installed.get(fix.source);
      // Only sources installed here, and only entries of the installed line of history.
      if (at === undefined || !(await dpkgOrders(fix.version, "le", at))) continue;
      advisories.set(cve, [...(advisories.get(cve) ?? []), { source: fix.source, fixed: fix.version }]);
    }
    const index = await indexImage(directorySource(rootfs), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS });
    facts = index.facts;
    stored = JSON.stringify(toCycloneDx({ subject: "debian-12", digest: undefined, facts, distribution: index.distribution, analyzers: index.analyzers, indexedAt: new Date() }));
  }, 20 * 60_000);
  afterAll(() => {
    for (const c of cleanups) c();
  });

  it("the changelogs name many CVEs across several source packages", () => {
    expect(advisories.size).toBeGreaterThan(100);
    expect(new Set([...advisories.values()].flat().map((a) => a.source)).size).toBeGreaterThan(10);
  });

  it("the installed system, which has every fix, reports none of them", async () => {
    const { db, report, remove } = await dbFrom([...advisories].map(([cve, affected]) => record(cve, affected)));
    cleanups.push(remove);
    expect(report.warningCount).toBe(0);
    expect(report.records).toBe(advisories.size);
    const outcome = createMatcher(db).match(facts, new Date());
    expect(outcome.findings).toEqual([]);
    expect(outcome.coverageGaps.filter((g) => g.kind.startsWith("ecosystem-") || g.kind === "version-unparseable")).toEqual([]);
  });

  it("with every fix moved past the installed source version, reports every one on each binary of its source", async () => {
    const installed = new Map(binaries.map((b) => [b.source, b.sourceVersion]));
    const raised = [...advisories].map(([cve, affected]) => record(cve, affected.map((a) => ({ source: a.source, fixed: `${installed.get(a.source) ?? ""}+scanhook1` }))));
    for (const [source, version] of installed) expect(await dpkgOrders(version, "lt", `${version}+scanhook1`), source).toBe(true);
    const { db, remove } = await dbFrom(raised);
    cleanups.push(remove);
    const outcome = createMatcher(db).match(facts, new Date());

    const expected = [...advisories]
      .flatMap(([cve, affected]) => affected.flatMap((a) => binaries.filter((b) => b.source === a.source).map((b) => `DEBIAN-${cve}\t${b.name}\t${a.source}`)))
      .sort();
    const got = outcome.findings.map((f) => `${f.id}\t${f.packageName}\t${f.sourcePackage ?? ""}`).sort();
    expect(got).toEqual(expected);
    // Binaries named unlike their source (bsdutils of util-linux, libc6 of glibc) are among them.
    expect(outcome.findings.some((f) => f.packageName !== f.sourcePackage)).toBe(true);
    for (const f of outcome.findings) {
      expect(f.upstreamIds).toEqual([f.id.slice("DEBIAN-".length)]);
      expect(f.fixedVersion).toBe(`${installed.get(f.sourcePackage ?? "") ?? ""}+scanhook1`);
    }
  });

  it("its SBOM as stored is read by the rematch without a full parse, to the same facts and the same findings", async () => {
    // storedSbomFacts fails unless the own-form reader recognizes the text.
    const back = storedSbomFacts(stored);
    const full = readSbomFacts(JSON.parse(stored));
    expect(full.ok && full.facts).toStrictEqual(back);
    expect(back.packages.length).toBe(facts.packages.length);
    expect(back.packages).toEqual(facts.packages.map(({ files: _files, arch: _arch, ...p }) => p));
    const installed = new Map(binaries.map((b) => [b.source, b.sourceVersion]));
    const { db, remove } = await dbFrom([...advisories].map(([cve, affected]) => record(cve, affected.map((a) => ({ source: a.source, fixed: `${installed.get(a.source) ?? ""}+scanhook1` })))));
    cleanups.push(remove);
    const now = new Date();
    const fromStored = createMatcher(db).match(back, now).findings;
    expect(fromStored.length).toBeGreaterThan(100);
    expect(fromStored).toEqual(createMatcher(db).match(facts, now).findings);
  });
});
