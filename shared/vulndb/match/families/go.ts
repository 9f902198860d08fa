import type { Family } from "./family.js";

/**
 * Go: modules by module path, and a binary's toolchain as the `stdlib` component matched against
 * the Go ecosystem's `stdlib` records (https://go.dev/doc/security/vuln/database#go-standard-library).
 * Toolchain versions are spelled `go1.21.3` by `go version -m`; records spell them `1.21.3`.
 */
export const goFamily: Family = {
  name: "language/go",
  version: 1,
  ecosystems: ["Go"],
  plan(pkg) {
    const stdlib = pkg.name === "stdlib" || pkg.name === "go" || pkg.name === "golang";
    const version = stdlib ? pkg.version.replace(/^go/, "") : pkg.version;
    return { ok: true, queries: [{ ecosystem: pkg.ecosystem, name: stdlib ? "stdlib" : pkg.name, version, via: "package" }] };
  }
};
