import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareDpkg, parseDpkg } from "../../shared/vulndb/versions/dpkg.js";
import { exitCode, probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedPairs, mapLimit, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: `dpkg --compare-versions`, the real dpkg. It compares one pair per process; we ask it
 * whether our answer (lt, eq or gt) holds, which checks the full ordering in a single call, and
 * let one `xargs -0` run all those calls (no shell: xargs execs dpkg with the arguments as they
 * are). Only when some call fails are the pairs asked one by one, to name the disagreements. Pairs: neighbours and random pairs of 3000 real Debian
 * versions sampled from `apt-cache dumpavail` (samples/debian.txt), plus seeded generated pairs
 * around `~`, `+`, `.`, `-`, letters, digit runs with leading zeros and epochs.
 */
const dpkg = probe("dpkg", ["--compare-versions", "1.0", "lt", "1.1"], "dpkg");

const OP = { [-1]: "lt", 0: "eq", 1: "gt" } as const;

async function allHold(claims: readonly (readonly [string, string, string])[]): Promise<boolean> {
  if (claims.length === 0) return true;
  const input = claims.map((c) => c.join("\0")).join("\0") + "\0";
  try {
    await runOracle("xargs", ["-0", "-n", "3", "-P", "4", "dpkg", "--compare-versions"], input);
    return true;
  } catch {
    return false;
  }
}

async function disagreements(pairs: readonly Pair[]): Promise<string[]> {
  const claims: (readonly [string, string, string])[] = [];
  for (const [a, b] of pairs) {
    const x = parseDpkg(a);
    const y = parseDpkg(b);
    if (x.ok && y.ok) claims.push([a, OP[compareDpkg(x.value, y.value)], b]);
  }
  const valid = pairs.filter(([a, b]) => parseDpkg(a).ok && parseDpkg(b).ok);
  const rejected = pairs.filter(([a, b]) => !parseDpkg(a).ok || !parseDpkg(b).ok);
  const suspects = (await allHold(claims)) ? rejected : [...valid, ...rejected];
  const results = await mapLimit(suspects, 8, async ([a, b]) => {
    const x = parseDpkg(a);
    const y = parseDpkg(b);
    if (!x.ok || !y.ok) {
      // dpkg must call it an error too (exit 2), not just a warning.
      const r = await exitCode("dpkg", ["--compare-versions", a, "eq", b]);
      return r.code === 2 ? undefined : `${a} / ${b}: scanhook rejects, dpkg exit ${r.code}`;
    }
    const ours = compareDpkg(x.value, y.value);
    const r = await exitCode("dpkg", ["--compare-versions", a, OP[ours], b]);
    return r.code === 0 ? undefined : `${a} ${OP[ours]} ${b}: dpkg says no (exit ${r.code}) ${r.stderr.trim()}`;
  });
  return results.filter((r): r is string => r !== undefined);
}

describe.runIf(shouldRun(dpkg))("dpkg versions against dpkg --compare-versions", () => {
  it("agrees on pairs of real Debian versions", async () => {
    requireTool(dpkg);
    // Without self pairs: each pair costs a process here, and x = x is checked by the other tests.
    const pairs = pairsOf(readSample("debian.txt"), 500, 11, false);
    expect(pairs.length).toBeGreaterThan(3400);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated edge cases", async () => {
    requireTool(dpkg);
    const stem = fc.oneof(
      fc.constantFrom("1", "1.0", "0", "2:1.2", "1:0", "10", "1.2.3", "0.9", "1a", "3.0~rc"),
      fc.nat(20).map(String)
    );
    const pieces = ["~", "~~", "+", ".", "-", "0", "00", "1", "01", "9", "10", "a", "b", "A", "z", "~rc1", "+dfsg", "-1", "ubuntu1", "+b1", ":", ""];
    const pairs = generatedPairs(stem, pieces, 1000, 8);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on versions with bytes beyond ASCII (dpkg compares bytes)", async () => {
    requireTool(dpkg);
    const odd = ["1.0é", "1.0e", "1.0~é", "1.0ü-1", "1.0z", "1.0~", "1.0", "1.0+ö", "2ß", "2s", "1.0-é"];
    const pairs: Pair[] = odd.flatMap((a) => odd.map((b): Pair => [a, b]));
    expect(await disagreements(pairs)).toEqual([]);
  });
});
