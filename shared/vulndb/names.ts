import { baseEcosystem } from "./versions/index.js";

/**
 * The one normal form of a package name per ecosystem, applied to OSV records at build time and
 * to installed packages at match time, so both sides meet. PyPI names are normalised as PEP 503
 * says (https://peps.python.org/pep-0503/#normalized-names); NuGet and Packagist names are
 * case-insensitive in their registries; every other ecosystem's names are compared as written.
 */
export function normalizeName(ecosystem: string, name: string): string {
  switch (baseEcosystem(ecosystem)) {
    case "PyPI":
      return name.toLowerCase().replace(/[-_.]+/g, "-");
    case "NuGet":
    case "Packagist":
      return name.toLowerCase();
    default:
      return name;
  }
}
