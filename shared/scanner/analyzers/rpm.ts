import Database from "better-sqlite3";
import type { InstalledPackage } from "../../domain/package.js";
import { defineAnalyzer, layerOfEntries, type FileVersion } from "../analyzer.js";
import { purl } from "./purl.js";
import { parseRpmHeader, type RpmHeaderFacts } from "./rpm-header.js";
import { readBdbHashValues, type DbValues } from "./rpm-bdb.js";
import { readNdbBlobs } from "./rpm-ndb.js";

/**
 * `os/rpm`: RPM packages from rpm's database, in each of the formats rpm has used:
 * - SQLite `rpmdb.sqlite` (rpm ≥ 4.16: Fedora 33+, RHEL 9, Azure Linux), table `Packages(hnum, blob)`;
 * - Berkeley DB hash `Packages` (RHEL/CentOS ≤ 8, Amazon Linux 2), see ./rpm-bdb.ts;
 * - NDB `Packages.db` (SUSE), see ./rpm-ndb.ts;
 * under `var/lib/rpm/` or `usr/lib/sysimage/rpm/` (where Fedora and SUSE moved it). Each value is
 * an RPM header blob (./rpm-header.ts). A header that does not parse is a warning; the others
 * are still reported. No `rpm` binary is run.
 *
 * The source package is the name in `SOURCERPM` (`<name>-<version>-<release>.src.rpm`), its version
 * the binary's epoch:version-release unless the source RPM's own differs.
 */

interface RpmEntry {
  readonly name: string;
  readonly epoch: number | undefined;
  readonly version: string;
  readonly release: string;
  readonly arch: string | undefined;
  readonly sourceRpm: string | undefined;
  readonly files: readonly string[];
}

const DIRS = ["var/lib/rpm/", "usr/lib/sysimage/rpm/"];
/** In order of preference: newest format first. */
const FILES = ["rpmdb.sqlite", "Packages.db", "Packages"];

function fromHeader(h: RpmHeaderFacts): RpmEntry {
  return { name: h.name, epoch: h.epoch, version: h.version, release: h.release, arch: h.arch, sourceRpm: h.sourceRpm, files: h.files };
}

/** Header blobs of a SQLite rpmdb, opened from memory. */
function sqliteBlobs(content: Buffer): DbValues {
  const copy = Buffer.from(content);
  // Bytes 18-19 = 2 mark WAL mode, which an in-memory database cannot open; 1 is the rollback
  // journal, the same page format (https://www.sqlite.org/fileformat2.html, "File format version numbers").
  if (copy.length >= 20 && copy[18] === 2 && copy[19] === 2) {
    copy[18] = 1;
    copy[19] = 1;
  }
  const db = new Database(copy, { readonly: true });
  try {
    const rows = db.prepare("SELECT blob FROM Packages ORDER BY hnum").raw().all() as unknown[][];
    return { values: rows.map((r) => r[0]).filter((b): b is Buffer => Buffer.isBuffer(b)), warnings: [] };
  } finally {
    db.close();
  }
}

/** Splits `<name>-<version>-<release>.src.rpm`. */
export function parseSourceRpm(sourceRpm: string): { name: string; version: string; release: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:src|nosrc)\.rpm$/.exec(sourceRpm);
  return m?.[1] === undefined || m[2] === undefined || m[3] === undefined ? undefined : { name: m[1], version: m[2], release: m[3] };
}

export function rpmVersion(e: Pick<RpmEntry, "epoch" | "version" | "release">): string {
  return `${e.epoch === undefined || e.epoch === 0 ? "" : `${e.epoch}:`}${e.version}-${e.release}`;
}

export const rpmAnalyzer = defineAnalyzer<{ readonly packages: readonly RpmEntry[] }>({
  name: "os/rpm",
  version: "1",
  kind: "packages",
  matches: (path) => DIRS.some((d) => path.startsWith(d) && FILES.includes(path.slice(d.length))),
  extract({ path, content }) {
    const file = path.slice(path.lastIndexOf("/") + 1);
    const blobs = file === "rpmdb.sqlite" ? sqliteBlobs(content) : file === "Packages" ? readBdbHashValues(content) : readNdbBlobs(content);
    const warnings = [...blobs.warnings];
    const packages: RpmEntry[] = [];
    for (const [i, blob] of blobs.values.entries()) {
      try {
        const h = parseRpmHeader(blob);
        // rpm keeps the gpg-pubkey pseudo-packages in the database; they are keys, not software.
        if (h.name !== "gpg-pubkey") packages.push(fromHeader(h));
      } catch (e) {
        warnings.push(`os/rpm: ${path}: header ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return { value: { packages }, warnings };
  },
  combine(files: readonly FileVersion<{ readonly packages: readonly RpmEntry[] }>[], { distribution }) {
    const key = (p: RpmEntry): string => `${p.name}.${p.arch ?? ""}-${rpmVersion(p)}`;
    const layers = layerOfEntries(files, (v) => v.packages.map((p) => [key(p), p.sourceRpm ?? ""] as const));
    const packages: InstalledPackage[] = [];
    const warnings: string[] = [];
    // Two databases (an old Packages left beside rpmdb.sqlite after a migration): the newest format wins.
    const rank = (path: string): number => FILES.indexOf(path.slice(path.lastIndexOf("/") + 1));
    const chosen = files.filter((f) => f.visible).sort((a, b) => rank(a.path) - rank(b.path))[0];
    if (chosen === undefined) return { packages, warnings };
    // purl's rpm namespace is the vendor; Red Hat's purls (and SBOM readers) spell it `redhat`.
    const namespace = distribution?.id === "rhel" ? "redhat" : distribution?.id;
    for (const p of chosen.value.packages) {
      const version = rpmVersion(p);
      const src = p.sourceRpm === undefined ? undefined : parseSourceRpm(p.sourceRpm);
      if (p.sourceRpm !== undefined && src === undefined) warnings.push(`os/rpm: ${p.name}: unparseable source RPM ${JSON.stringify(p.sourceRpm)}`);
      const layer = layers.get(key(p));
      packages.push({
        name: p.name,
        version,
        purl: purl("rpm", namespace, p.name, `${p.version}-${p.release}`, {
          arch: p.arch,
          epoch: p.epoch === undefined || p.epoch === 0 ? undefined : String(p.epoch),
          distro: distribution?.purlDistro
        }),
        ecosystem: distribution?.ecosystem,
        ...(src === undefined
          ? {}
          : { source: { name: src.name, version: rpmVersion({ epoch: p.epoch, version: src.version, release: src.release }) } }),
        ...(layer === undefined ? {} : { layer }),
        analyzer: "os/rpm",
        ...(p.arch === undefined ? {} : { arch: p.arch }),
        files: p.files
      });
    }
    return { packages, warnings };
  }
});
