import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { comparePep440, parsePep440 } from "../../shared/vulndb/versions/pep440.js";
import { probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedPairs, generatedStrings, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: `packaging.version.Version` from Debian's python3-packaging (23.0, which rejects legacy
 * versions), run by /usr/bin/python3. One process answers every pair: "x" when either side is
 * invalid, else -1/0/1. Both acceptance and order must agree.
 *
 * Pairs: 4000 real PyPI versions (samples/pypi.txt, legacy ones included) and seeded generated
 * spellings of epochs, pre/post/dev releases, separators, case and local versions.
 */
const PYTHON = "/usr/bin/python3";
const python = probe(PYTHON, ["-c", "import packaging.version"], "python3-packaging");

const ORACLE = `
import json, sys
from packaging.version import Version, InvalidVersion
def parse(s):
    try:
        return Version(s)
    except InvalidVersion:
        return None
out = []
for line in sys.stdin:
    a, b = json.loads(line)
    x, y = parse(a), parse(b)
    if x is None or y is None:
        out.append("x" if x is None and y is None else ("xa" if x is None else "xb"))
    else:
        out.append(str((x > y) - (x < y)))
sys.stdout.write("\\n".join(out) + "\\n")
`;

function ours(a: string, b: string): string {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x.ok || !y.ok) return !x.ok && !y.ok ? "x" : !x.ok ? "xa" : "xb";
  return String(comparePep440(x.value, y.value));
}

async function disagreements(pairs: readonly Pair[]): Promise<string[]> {
  const out = await runOracle(PYTHON, ["-c", ORACLE], pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const theirs = out.trim().split("\n");
  expect(theirs.length).toBe(pairs.length);
  return pairs.flatMap(([a, b], i) => {
    const o = ours(a, b);
    return o === theirs[i] ? [] : [`${JSON.stringify(a)} vs ${JSON.stringify(b)}: scanhook ${o}, packaging ${String(theirs[i])}`];
  });
}

describe.runIf(shouldRun(python))("PEP 440 versions against packaging.version", () => {
  it("agrees on pairs of real PyPI versions", async () => {
    requireTool(python);
    const pairs = pairsOf(readSample("pypi.txt"), 4000, 31);
    expect(pairs.length).toBeGreaterThan(11_000);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated spellings", async () => {
    requireTool(python);
    const stem = fc.constantFrom("1", "1.0", "1!1.0", "0!0", "v1.0", "V2", " 1.2", "1.0.0", "2013.10", "01.002");
    const pieces = ["a", "alpha", "b", "Beta", "c", "rc", "pre", "preview", "post", "rev", "r", "-", "_", ".", "dev", "DEV", "0", "1", "10", "+", "+local", "+abc.5", "-1", "ubuntu", "x", " "];
    const pairs = [
      ...generatedPairs(stem, pieces, 4000, 32, 5),
      ...generatedStrings(pieces, 500, 33).map((s) => [s, "1.0"] as const)
    ];
    expect(await disagreements(pairs)).toEqual([]);
  });
});
