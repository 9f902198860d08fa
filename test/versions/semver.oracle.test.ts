import fc from "fast-check";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { compareNpmSemver, compareStrictSemver, parseNpmSemver, parseStrictSemver } from "../../shared/vulndb/versions/semver.js";
import { generatedPairs, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: the npm `semver` package (devDependency), in process. npm: acceptance (`semver.valid`)
 * and order (`semver.compare`) must match exactly. crates.io: our strict SemVer 2.0.0 must accept
 * a subset of what `semver` accepts (no `v`, no white space) and order those the same.
 *
 * Pairs: 4000 real npm versions (samples/npm.txt) and seeded generated ones around pre-release
 * identifiers (numeric against alphanumeric, leading zeros, hyphens), build metadata, `v` and
 * white space.
 */
const valid = (v: string): boolean => semver.valid(v) !== null;

function disagreements(pairs: readonly Pair[]): string[] {
  const out: string[] = [];
  for (const [a, b] of pairs) {
    const x = parseNpmSemver(a);
    const y = parseNpmSemver(b);
    if (x.ok !== valid(a)) out.push(`npm accepts ${JSON.stringify(a)}: semver ${String(valid(a))}, scanhook ${String(x.ok)}`);
    if (!x.ok || !y.ok || !valid(a) || !valid(b)) continue;
    const theirs = semver.compare(a, b);
    const ours = compareNpmSemver(x.value, y.value);
    if (ours !== theirs) out.push(`npm ${a} vs ${b}: scanhook ${ours}, semver ${theirs}`);

    const sx = parseStrictSemver(a);
    const sy = parseStrictSemver(b);
    if (sx.ok && !valid(a)) out.push(`crates.io accepts ${JSON.stringify(a)}, semver does not`);
    if (sx.ok && sy.ok) {
      const strict = compareStrictSemver(sx.value, sy.value);
      if (strict !== theirs) out.push(`crates.io ${a} vs ${b}: scanhook ${strict}, semver ${theirs}`);
    }
  }
  return out;
}

describe("npm and crates.io versions against the npm semver package", () => {
  it("agrees on pairs of real npm versions", () => {
    const pairs = pairsOf(readSample("npm.txt"), 8000, 41);
    expect(pairs.length).toBeGreaterThan(15_000);
    expect(disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated edge cases", () => {
    const stem = fc.constantFrom("1.0.0", "0.0.0", "v1.2.3", "1.2.3", " 1.0.0", "01.0.0", "1.0", "10.20.30", "9007199254740991.0.0");
    const pieces = ["-", "+", ".", "0", "00", "01", "1", "9", "10", "alpha", "Alpha", "beta", "rc", "x", "-", "--", "a1", "1a", "build", " ", "_"];
    const pairs = generatedPairs(stem, pieces, 20_000, 42, 5);
    expect(disagreements(pairs)).toEqual([]);
  });
});
