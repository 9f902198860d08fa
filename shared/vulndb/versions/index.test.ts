import { describe, expect, it } from "vitest";
import { baseEcosystem, buildRegistry, compareVersions, parseVersion, supportedEcosystems, VersionError } from "./index.js";
import { dpkg } from "./dpkg.js";

const order = (a: string, b: string, eco: string): number | string => {
  const r = compareVersions(a, b, eco);
  return r.ok ? r.value : r.error.code;
};

describe("compareVersions", () => {
  it.each([
    // Debian / Ubuntu: ~ before everything, epochs, revisions
    ["1.0~rc1-1", "1.0-1", "Debian:12", -1],
    ["1:0.9", "2.0", "Debian", 1],
    ["2.36-9+deb12u4", "2.36-9+deb12u10", "Debian:12", -1],
    ["1.2.3-0ubuntu1", "1.2.3-0ubuntu1.1", "Ubuntu:22.04:LTS", -1],
    ["1.0", "1.0-0", "Ubuntu:Pro:18.04:LTS", 0],
    // Alpine / Wolfi / Chainguard
    ["1.2.3_rc1-r0", "1.2.3-r0", "Alpine:v3.20", -1],
    ["1.2.3_p1-r0", "1.2.3-r5", "Wolfi", 1],
    ["3.0.13-r0", "3.0.13-r1", "Chainguard", -1],
    // RPM
    ["0:1.0-1.el9", "1.0-1.el9", "Red Hat:enterprise_linux:9::baseos", 0],
    ["1.0~beta-1", "1.0-1", "Rocky Linux:9", -1],
    ["1.0^git1-1", "1.0-1", "Azure Linux:3", 1],
    ["1:1.0-1", "2.0-1", "SUSE:Linux Enterprise Server 15 SP5", 1],
    // npm, crates.io, Go
    ["1.0.0-alpha.10", "1.0.0-alpha.9", "npm", 1],
    ["1.0.0+build.1", "1.0.0+build.2", "crates.io", 0],
    ["1.20.1", "v1.20.0", "Go", 1],
    ["v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", "Go", -1],
    ["v2.0.0+incompatible", "v2.0.0", "Go", 0],
    // PyPI
    ["1.0.dev0", "1.0a1", "PyPI", -1],
    ["1.0.post1", "1.0", "PyPI", 1],
    ["1.0+local.1", "1.0", "PyPI", 1],
    ["1!0.1", "2.0", "PyPI", 1],
    ["1.0", "1.0.0", "PyPI", 0],
    // Maven
    ["1.0-alpha-1", "1.0-beta-1", "Maven", -1],
    ["1.0-rc1", "1.0-cr1", "Maven", 0],
    ["1.0-SNAPSHOT", "1.0", "Maven", -1],
    ["1.0.Final", "1.0", "Maven", 0],
    ["1.0-sp1", "1.0", "Maven", 1],
    // RubyGems, NuGet, Packagist
    ["1.0.0.pre", "1.0.0", "RubyGems", -1],
    ["1.0.0-rc1", "1.0.0.rc1", "RubyGems", -1], // "-" reads as ".pre.", and pre < rc
    ["1.0.0.0", "1.0", "NuGet", 0],
    ["1.0.0-beta", "1.0.0-BETA", "NuGet", 0],
    ["v1.2.3", "1.2.3.0", "Packagist", 0],
    ["1.0.0-patch1", "1.0.0", "Packagist", 1],
    ["1.0.0-RC1", "1.0.0-beta2", "Packagist", 1]
  ] as const)("%s vs %s in %s is %i", (a, b, eco, expected) => {
    expect(order(a, b, eco)).toBe(expected);
    expect(order(b, a, eco)).toBe(expected === 0 ? 0 : -expected);
  });

  it("returns an error value naming the ecosystem and the input, never throws", () => {
    const r = compareVersions("1.0", "1.0-", "Debian:12");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(VersionError);
    expect(r.error.code).toBe("VERSION.INVALID");
    expect(r.error.ecosystem).toBe("Debian:12");
    expect(r.error.input).toBe("1.0-");
    expect(r.error.message).toBe('Debian:12: invalid version "1.0-": revision number is empty');
  });

  it("says when an ecosystem has no comparator", () => {
    const r = compareVersions("1", "2", "Hackage");
    expect(r.ok ? "ok" : r.error.code).toBe("VERSION.UNSUPPORTED_ECOSYSTEM");
  });

  it.each([
    ["", "Debian"],
    ["a:1", "Debian"],
    ["1.0bc", "Alpine:v3.20"],
    ["1:", "Red Hat"],
    ["1.0", "npm"],
    ["v1.0.0", "crates.io"],
    ["v1.2-pre", "Go"],
    ["1.0-foo", "PyPI"],
    ["", "Maven"],
    ["1..0", "RubyGems"],
    ["1.0.0-", "NuGet"],
    ["dev-main", "Packagist"],
    ["not a version", "Packagist"]
  ])("rejects %j in %s", (v, eco) => {
    const r = parseVersion(v, eco);
    expect(r.ok ? "accepted" : r.error.code).toBe("VERSION.INVALID");
  });
});

describe("the registry", () => {
  it("matches on the name before the first colon", () => {
    expect(baseEcosystem("Ubuntu:Pro:18.04:LTS")).toBe("Ubuntu");
    expect(baseEcosystem("Red Hat:rhel_aus:8.4::appstream")).toBe("Red Hat");
    expect(baseEcosystem("Maven:https://maven.google.com")).toBe("Maven");
    expect(baseEcosystem("npm")).toBe("npm");
  });

  it("fails at load on a name listed twice", () => {
    expect(() => buildRegistry([["Debian", dpkg], ["Debian", dpkg]])).toThrow(/registered twice for ecosystem "Debian"/);
  });

  it("covers the ecosystems the matcher needs, each an OSV ecosystem name", async () => {
    const { readFile } = await import("node:fs/promises");
    const osv = JSON.parse(await readFile(new URL("../../../test/fixtures/schemas/osv-ecosystems.json", import.meta.url), "utf8")) as Record<string, string>;
    expect(supportedEcosystems.filter((e) => !(e in osv))).toEqual([]);
    for (const e of ["Debian", "Ubuntu", "Alpine", "Wolfi", "Chainguard", "Red Hat", "Rocky Linux", "AlmaLinux", "SUSE", "Azure Linux", "Photon OS", "npm", "crates.io", "Go", "PyPI", "Maven", "RubyGems", "NuGet", "Packagist"]) {
      expect(supportedEcosystems).toContain(e);
    }
  });
});
