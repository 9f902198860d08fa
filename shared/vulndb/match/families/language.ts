import type { Family } from "./family.js";

/**
 * Language ecosystems (npm, PyPI, Maven, RubyGems, NuGet, Packagist, crates.io …) and any other
 * ecosystem without a family of its own: the package's own name and version in its ecosystem,
 * names normalised by `names.ts` on both sides.
 */
export const languageFamily: Family = {
  name: "language",
  version: 1,
  ecosystems: [],
  plan(pkg) {
    return { ok: true, queries: [{ ecosystem: pkg.ecosystem, name: pkg.name, version: pkg.version, via: "package" }] };
  }
};
