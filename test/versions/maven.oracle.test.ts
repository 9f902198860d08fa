import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareMaven, parseMaven } from "../../shared/vulndb/versions/maven.js";
import { probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedStrings, mulberryShuffle, readSample } from "./pairs.js";

/**
 * Oracle: Maven's own `ComparableVersion` from Debian's libmaven3-core-java
 * (/usr/share/java/maven3-artifact.jar, Maven 3.8.7) on Java 17. Its `main` compares each
 * version on its command line with the next one, so one JVM compares a whole chain: the sorted
 * sample (neighbours), the same sample shuffled (random pairs), and generated versions.
 *
 * Versions: 2400 real Maven Central versions (samples/maven.txt) and seeded generated ones
 * around qualifiers (alpha/a1, beta, milestone, rc/cr, snapshot, ga/final/release, sp, unknown),
 * separators and zero padding.
 */
const JAR = "/usr/share/java/maven3-artifact.jar";
const CLASS = "org.apache.maven.artifact.versioning.ComparableVersion";
const java = probe("java", ["-cp", JAR, CLASS, "1", "2"], "default-jre-headless libmaven3-core-java");

const SYMBOL: Readonly<Record<string, number>> = { "<": -1, "==": 0, ">": 1 };

/** Runs the chain through Maven and returns each neighbour comparison. */
async function mavenChain(chain: readonly string[]): Promise<number[]> {
  const out = await runOracle("java", ["-cp", JAR, CLASS, ...chain], "");
  const comparisons = out.split("\n").filter((l) => l.startsWith("   "));
  expect(comparisons.length).toBe(chain.length - 1);
  return comparisons.map((line, i) => {
    const prev = chain[i] ?? "";
    const rest = line.slice(3 + prev.length + 1);
    const op = rest.slice(0, rest.indexOf(" "));
    const r = SYMBOL[op];
    if (r === undefined) throw new Error(`cannot read Maven's answer: ${line}`);
    return r;
  });
}

async function disagreements(chain: readonly string[]): Promise<string[]> {
  const usable = chain.filter((v) => parseMaven(v).ok);
  const theirs = await mavenChain(usable);
  const problems: string[] = [];
  for (let i = 1; i < usable.length; i++) {
    const a = usable[i - 1] ?? "";
    const b = usable[i] ?? "";
    const x = parseMaven(a);
    const y = parseMaven(b);
    if (!x.ok || !y.ok) continue;
    const ours = compareMaven(x.value, y.value);
    if (ours !== theirs[i - 1]) problems.push(`${a} vs ${b}: scanhook ${ours}, Maven ${String(theirs[i - 1])}`);
  }
  return problems;
}

describe.runIf(shouldRun(java))("Maven versions against ComparableVersion", () => {
  it("agrees on chains of real Maven versions", async () => {
    requireTool(java);
    const versions = readSample("maven.txt");
    const chain = [...[...versions].sort(), ...mulberryShuffle(versions, 61), ...mulberryShuffle(versions, 62)];
    expect(chain.length).toBeGreaterThan(7000);
    expect(await disagreements(chain)).toEqual([]);
  });

  it("agrees on generated versions", async () => {
    requireTool(java);
    const pieces = ["1", "0", "00", "2", "10", ".", "-", "alpha", "a", "a1", "b", "beta", "m", "milestone", "rc", "cr", "CR", "snapshot", "SNAPSHOT", "ga", "final", "Final", "release", "sp", "foo", "x", "RELEASE"];
    const strings = generatedStrings(pieces, 6000, 63, 7).filter((s) => !s.startsWith("-"));
    const chain = [...strings, ...[...strings].sort()];
    expect(await disagreements(chain)).toEqual([]);
  });

  it("says 1 = 1.0 = 1-ga and alpha < beta < milestone < rc = cr < snapshot < release < sp", async () => {
    requireTool(java);
    void fc;
    const chain = ["1", "1.0", "1-ga", "1-alpha", "1-beta", "1-milestone", "1-rc", "1-cr", "1-snapshot", "1", "1-sp"];
    expect(await disagreements(chain)).toEqual([]);
  });
});
