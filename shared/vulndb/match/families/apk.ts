import type { Family } from "./family.js";

/**
 * Alpine and its kin (Wolfi, Chainguard, and the other apk-based ecosystems): OSV names the origin
 * (source) package; apk builds every subpackage of an origin at the origin's version
 * (https://wiki.alpinelinux.org/wiki/Apk_spec, `o:` field), so the binary's version is the origin's.
 */
export const apkFamily: Family = {
  name: "os/apk",
  version: 1,
  ecosystems: ["Alpine", "Wolfi", "Chainguard", "MinimOS", "Alpaquita", "BellSoft Hardened Containers"],
  plan(pkg) {
    const origin = pkg.source?.name;
    return { ok: true, queries: [{ ecosystem: pkg.ecosystem, name: origin ?? pkg.name, version: pkg.source?.version ?? pkg.version, via: origin === undefined ? "package" : "source" }] };
  }
};
