import type { Family } from "./family.js";

/** Made once: a regular expression literal in `plan` would be a new object for every package matched. */
const BIN_NMU = /\+b\d+$/;

/**
 * Debian and Ubuntu: OSV names the **source** package and its version
 * (https://ossf.github.io/osv-schema/ ecosystem table; Debian Policy 5.6.1 `Source`), so a binary
 * is matched as its source: `bsdutils 1:2.38.1-5+deb12u3` is `util-linux 2.38.1-5+deb12u3`. The
 * indexer takes the source version from dpkg's `Source: name (version)`; where an SBOM has no
 * source version, a binNMU suffix (`+bN`, Debian's binary-only upload, which never changes the
 * source) is removed from the binary version. Ubuntu's `buildN` is a source upload and is kept.
 */
export const dpkgFamily: Family = {
  name: "os/dpkg",
  version: 1,
  ecosystems: ["Debian", "Ubuntu"],
  plan(pkg) {
    const binNmu = pkg.ecosystem.startsWith("Debian") ? BIN_NMU : undefined;
    const version = pkg.source?.version ?? (binNmu === undefined ? pkg.version : pkg.version.replace(binNmu, ""));
    const source = pkg.source?.name;
    return { ok: true, queries: [{ ecosystem: pkg.ecosystem, name: source ?? pkg.name, version, via: source === undefined ? "package" : "source" }] };
  }
};
