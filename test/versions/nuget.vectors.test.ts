import { describe, expect, it } from "vitest";
import { compareNuget, parseNuget } from "../../shared/vulndb/versions/nuget.js";

/**
 * NuGet has no oracle on Debian (no NuGet.Versioning, no .NET), so no oracle runs here. These
 * are the published NuGet.Versioning unit-test vectors (NuGet/NuGet.Client,
 * test/NuGet.Core.Tests/NuGet.Versioning.Test: VersionComparerTests.cs, SemVer201SpecTests.cs,
 * VersionParsingTests.cs), transcribed as data. SemVer201SpecTests checks the strict
 * `SemanticVersion` parser; only its cases that hold for the lenient `NuGetVersion` too (release
 * labels, metadata and ordering; not "exactly three parts" or "no leading zeros in parts") are
 * kept.
 */
function cmp(a: string, b: string): number {
  const x = parseNuget(a);
  const y = parseNuget(b);
  if (!x.ok || !y.ok) throw new Error(`vector does not parse: ${a} / ${b}`);
  return compareNuget(x.value, y.value);
}

describe("NuGet versions against NuGet.Versioning's published test vectors", () => {
  it("VersionComparerTests: equal", () => {
    const equal: [string, string][] = [
      ["1.0.0", "1.0.0"],
      ["1.0.0-BETA", "1.0.0-beta"],
      ["1.0.0-BETA+AA", "1.0.0-beta+aa"],
      ["1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa"],
      ["1.0.0", "1.0.0+beta"],
      ["1.0", "1.0.0.0"],
      ["1.0+test", "1.0.0.0"],
      ["1.0.0.1-1.2.A", "1.0.0.1-1.2.a+A"],
      ["1.0.01", "1.0.1.0"]
    ];
    for (const [a, b] of equal) {
      expect([a, b, cmp(a, b), cmp(b, a)]).toEqual([a, b, 0, 0]);
    }
  });

  it("VersionComparerTests: not equal", () => {
    const different: [string, string][] = [
      ["1.0", "1.0.0.1"],
      ["1.0+test", "1.0.0.1"],
      ["1.0.0.1-1.2.A", "1.0.0.1-1.2.a.A+A"],
      ["1.0.01", "1.0.1.2"]
    ];
    // VersionComparisonDefaultNotEqual is left out: it calls object.Equals on the two strings,
    // not the comparer (its "1.0.0-BETA+AA" / "1.0.0-beta" differ only as strings).
    for (const [a, b] of different) expect([a, b, cmp(a, b) !== 0]).toEqual([a, b, true]);
  });

  it("VersionComparerTests and SemVer201SpecTests: less", () => {
    const less: [string, string][] = [
      ["0.0.0", "1.0.0"],
      ["1.0.0", "1.1.0"],
      ["1.0.0", "1.0.1"],
      ["1.999.9999", "2.1.1"],
      ["1.0.0-BETA", "1.0.0-beta2"],
      ["1.0.0-beta+AA", "1.0.0+aa"],
      ["1.0.0-BETA", "1.0.0-beta.1+AA"],
      ["1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa"],
      ["1.0.0-BETA.X.y.5.79.0+AA", "1.0.0-beta.x.y.5.790.0+abc"],
      ["1.2.3", "1.2.4"],
      ["1.2.3", "2.0.0"],
      ["9.9.9", "10.1.1"],
      ["1.2.3-alpha", "1.2.3"],
      ["1.2.3-2", "1.2.3-3"],
      ["1.2.3-1.9", "1.2.3-1.50"],
      ["1.2.3-2A", "1.2.3-3A"],
      ["1.2.3-1.50A", "1.2.3-1.9A"],
      ["1.2.3-999999", "1.2.3-Z"],
      ["1.2.3-A.999999", "1.2.3-A.56-2"],
      ["1.2.3-a", "1.2.3-a.2"],
      ["1.2.3-a.2.3.4", "1.2.3-a.2.3.4.5"]
    ];
    for (const [a, b] of less) expect([a, b, cmp(a, b), cmp(b, a)]).toEqual([a, b, -1, 1]);
  });

  it("SemVer201SpecTests: release labels ignore case", () => {
    expect(cmp("1.2.3-a", "1.2.3-A")).toBe(0);
    expect(cmp("1.2.3-A-b2-C", "1.2.3-a-B2-c")).toBe(0);
  });

  it("VersionParsingTests: 2, 2.0, 2.0.0 and 2.0.0.0 are the same version", () => {
    for (const v of ["2", "2.0", "2.0.0", "2.0.0.0"]) expect(cmp(v, "2.0.0")).toBe(0);
  });

  it("accepts the valid vectors", () => {
    const valid = [
      "1.0.0-Beta", "1.0.0-Beta.2", "1.0.0+MetaOnly", "1.0.0", "1.0.0-Beta+Meta", "1.0.0-RC.X+MetaAA",
      "1.0.0-RC.X.35.A.3455+Meta-A-B-C", "3.5.1-x.y.z+AA", "234.234234.1111", "0.1.2", "0.0.0",
      "0.1.2-Alpha", "0.1.2-Alpha.2.34.5.453.345.345.345.345.A.B.bbbbbbb.Csdfdfdf", "0.1.2-Alpha-2-5Bdd",
      "0.1.2--", "0.1.2--B-C-", "0.1.2--B2.-.C.-A0-", "0.1.2+NoReleaseLabel", "0.1.2-02A", "0.1.2-2.02B",
      "0.1.2-2.A.02-", "0.1.2-A02.A", "0.1.2+02A", "0.1.2+A", "0.1.2+20349244.233.344.0",
      "0.1.2+203-49244.23-3.34-4.0-.-.-", "0.1.2+AAaaaaAAAaaaa", "0.1.2+-", "0.1.2+----.-.-.-", "0.1.2----+----",
      "0.1.2+02.02-02", "0.1.2+02", "0.1.2+000000", "0.1.2+AA-02A", "0.1.2+A.-A-02A"
    ];
    expect(valid.filter((v) => !parseNuget(v).ok)).toEqual([]);
  });

  it("rejects the invalid vectors", () => {
    const invalid = [
      "X.2.3", "1.2.Z", "X.Y.Z", "-1.2.3", "1.-2.3", "1.2.-3",
      "0.1.2-Alpha..2", "0.1.2-Alpha.", "0.1.2-.AA", "0.1.2-",
      "0.1.2-alp=ha", "0.1.2-alp┐jj", "0.1.2-a&444", "0.1.2-a.&.444",
      "0.1.2-02", "0.1.2-2.02", "0.1.2-2.A.02", "0.1.2-02.A",
      "0.1.2+ÄÄ", "0.1.2+22.2ÄÄ", "0.1.2+2+A", "0.1.2+02A.", "0.1.2+02..A", "0.1.2+"
    ];
    expect(invalid.filter((v) => parseNuget(v).ok)).toEqual([]);
  });
});
