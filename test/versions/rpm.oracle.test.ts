import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareRpm, parseRpm } from "../../shared/vulndb/versions/rpm.js";
import { probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedPairs, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: `rpm.labelCompare` from Debian's python3-rpm (rpm 4.18), run by Debian's own
 * /usr/bin/python3 (a pyenv python3 earlier on PATH cannot import it). One process compares
 * every pair, read as JSON lines of [epoch, version, release] triples split by our parser
 * (None where absent), so the oracle orders exactly what we order.
 *
 * Pairs: the EVRs of the packages in the rpm database fixtures (samples/rpm.txt), the real
 * Debian versions (samples/debian.txt; rpmvercmp orders any string, and these are full of `~`,
 * `+`, epochs and letter runs), and seeded generated pairs around `~`, `^`, separators, letters
 * and digit runs.
 */
const PYTHON = "/usr/bin/python3";
const python = probe(PYTHON, ["-c", "import rpm"], "python3-rpm");

const ORACLE = `
import json, sys, rpm
out = []
for line in sys.stdin:
    a, b = json.loads(line)
    out.append(str(rpm.labelCompare(tuple(a), tuple(b))))
sys.stdout.write("\\n".join(out) + "\\n")
`;

async function disagreements(pairs: readonly Pair[]): Promise<string[]> {
  const valid: { a: string; b: string; ours: number; evr: string }[] = [];
  for (const [a, b] of pairs) {
    const x = parseRpm(a);
    const y = parseRpm(b);
    if (!x.ok || !y.ok) continue;
    const triple = (v: typeof x.value, raw: string): (string | null)[] => [raw.includes(":") ? v.epoch : null, v.version, v.release ?? null];
    valid.push({ a, b, ours: compareRpm(x.value, y.value), evr: JSON.stringify([triple(x.value, a), triple(y.value, b)]) });
  }
  const out = await runOracle(PYTHON, ["-c", ORACLE], valid.map((v) => v.evr).join("\n") + "\n");
  const theirs = out.trim().split("\n").map(Number);
  expect(theirs.length).toBe(valid.length);
  return valid.flatMap((v, i) => (theirs[i] === v.ours ? [] : [`${v.a} vs ${v.b}: scanhook ${v.ours}, rpm ${String(theirs[i])}`]));
}

describe.runIf(shouldRun(python))("rpm versions against rpm.labelCompare", () => {
  it("agrees on the rpm fixtures' versions and real Debian versions", async () => {
    requireTool(python);
    const pairs = [...pairsOf(readSample("rpm.txt"), 2000, 21), ...pairsOf(readSample("debian.txt"), 3000, 22)];
    expect(pairs.length).toBeGreaterThan(10_000);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated edge cases", async () => {
    requireTool(python);
    const stem = fc.constantFrom("1", "1.0", "0:1", "1:1.0", "2.3.4", "1.0-1", "1a", "1.0^", "1.0~");
    const pieces = ["~", "^", ".", "_", "+", "-1", "0", "00", "1", "01", "10", "a", "B", "z", "rc", "~rc1", "^git", ".el9", "p", ""];
    const pairs = generatedPairs(stem, pieces, 4000, 23, 5);
    expect(await disagreements(pairs)).toEqual([]);
  });
});
