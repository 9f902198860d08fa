import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Finding } from "../../shared/domain/image-record.js";
import { byIdAndPackage, mergeRuns } from "../../shared/vulndb/match/matcher.js";

/**
 * An SBOM's findings are listed by (vulnerability id, package name) within a severity. The matcher
 * merges the ascending runs they arrive in rather than sorting afresh; here that is held equal to a
 * stable sort, element for element (the same objects, ties in arrival order), over any input: runs
 * as the matcher makes them (package by package, each in id order), and arbitrary order too.
 */
const finding = (id: string, packageName: string, n: number): Finding => ({ id, aliases: [], upstreamIds: [], severity: "high", fixable: false, packageName, packageVersion: String(n), ecosystem: "Debian:12" });

const ids = fc.constantFrom("CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0010", "DSA-5001-1", "GHSA-aaaa-bbbb-cccc");
const names = fc.constantFrom("bsdutils", "libblkid1", "mount", "util-linux");

describe("findings order (mergeRuns)", () => {
  it("equals a stable sort of findings in any order, duplicates and ties included", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(ids, names), { maxLength: 60 }), (pairs) => {
        const xs = pairs.map(([id, name], n) => finding(id, name, n));
        const before = [...xs];
        expect(mergeRuns(xs)).toEqual([...xs].sort(byIdAndPackage));
        // The input is left as it was: a finding list may be read again.
        expect(xs).toEqual(before);
      }),
      { numRuns: 400 }
    );
  });

  it("equals a stable sort of runs as the matcher makes them: package by package, each in id order", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(names, fc.uniqueArray(ids, { maxLength: 5 })), { maxLength: 20 }), (packages) => {
        let n = 0;
        const xs = packages.flatMap(([name, found]) => [...found].sort().map((id) => finding(id, name, n++)));
        const merged = mergeRuns(xs);
        const sorted = [...xs].sort(byIdAndPackage);
        expect(merged).toHaveLength(sorted.length);
        merged.forEach((f, i) => expect(f).toBe(sorted[i]));
      }),
      { numRuns: 300 }
    );
  });

  it("hands back the list itself when it is one run, and an empty or single list as is", () => {
    const one = [finding("CVE-2024-0001", "a", 0), finding("CVE-2024-0001", "b", 1), finding("CVE-2024-0002", "a", 2)];
    expect(mergeRuns(one)).toBe(one);
    expect(mergeRuns([])).toEqual([]);
  });
});
