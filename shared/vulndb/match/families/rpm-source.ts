import type { InstalledPackage } from "../../../domain/package.js";
import { baseEcosystem } from "../../versions/index.js";
import type { Family, MatchQuery } from "./family.js";

/**
 * The source RPM's `[epoch:]version-release` for a binary. rpm records the source RPM as a file
 * name (`util-linux-2.37.4-3.el9.src.rpm`), which has no epoch, while subpackages carry their
 * source's epoch: so the binary's epoch is put on a source version that lacks one.
 */
export function sourceRpmVersion(pkg: InstalledPackage): string {
  const given = pkg.source?.version;
  if (given === undefined) return pkg.version;
  const epoch = /^(\d+):/.exec(pkg.version)?.[1];
  return epoch !== undefined && !/^\d+:/.test(given) ? `${epoch}:${given}` : given;
}

/** Ecosystems whose release suffix is optional (osv-ecosystems.json): a record without one applies to every release. */
const OPTIONAL_RELEASE = new Set(["Rocky Linux", "AlmaLinux"]);

/**
 * Azure Linux, Rocky Linux, AlmaLinux, Mageia and openEuler: OSV names the source RPM; versions
 * compare with epoch and release (rpmvercmp). Rocky and Alma records may omit the release, so
 * both the released and the bare ecosystem are read.
 */
export const rpmSourceFamily: Family = {
  name: "os/rpm-source",
  version: 1,
  ecosystems: ["Azure Linux", "Rocky Linux", "AlmaLinux", "Mageia", "openEuler"],
  plan(pkg) {
    const name = pkg.source?.name ?? pkg.name;
    const via = pkg.source?.name === undefined ? "package" : "source";
    const version = sourceRpmVersion(pkg);
    const queries: MatchQuery[] = [{ ecosystem: pkg.ecosystem, name, version, via }];
    const base = baseEcosystem(pkg.ecosystem);
    if (OPTIONAL_RELEASE.has(base) && base !== pkg.ecosystem) queries.push({ ecosystem: base, name, version, via });
    return { ok: true, queries };
  }
};
