import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compareRubygems, parseRubygems } from "../../shared/vulndb/versions/rubygems.js";
import { probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedPairs, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: `Gem::Version` of Debian's ruby (RubyGems 3.3) through one `ruby -e` that reads JSON
 * lines of pairs and answers validity (`Gem::Version.correct?`) and `<=>` for each.
 *
 * Pairs: the gem versions on the machine image (samples/rubygems.txt) are few, so the real npm,
 * PyPI and Maven versions (samples/*.txt) are compared too — RubyGems accepts most of them and
 * rejects the rest, and both answers must agree — plus seeded generated ones around prerelease
 * letters, `-` (read as `.pre.`), trailing zeros and white space.
 */
const ruby = probe("ruby", ["-e", "require 'json'; Gem::Version.new('1.0')"], "ruby");

const ORACLE = `
require "json"
STDIN.each_line do |line|
  a, b = JSON.parse(line)
  va = Gem::Version.correct?(a)
  vb = Gem::Version.correct?(b)
  c = (va && vb) ? (Gem::Version.new(a) <=> Gem::Version.new(b)) : "-"
  puts "#{va} #{vb} #{c}"
end
`;

async function disagreements(pairs: readonly Pair[]): Promise<string[]> {
  const out = await runOracle("ruby", ["-e", ORACLE], pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const lines = out.trim().split("\n");
  expect(lines.length).toBe(pairs.length);
  return pairs.flatMap(([a, b], i) => {
    const [va, vb, c] = (lines[i] ?? "").split(" ");
    const x = parseRubygems(a);
    const y = parseRubygems(b);
    const problems: string[] = [];
    if (String(x.ok) !== va) problems.push(`${JSON.stringify(a)}: Gem valid=${String(va)}, scanhook ${String(x.ok)}`);
    if (String(y.ok) !== vb) problems.push(`${JSON.stringify(b)}: Gem valid=${String(vb)}, scanhook ${String(y.ok)}`);
    if (x.ok && y.ok && String(compareRubygems(x.value, y.value)) !== c) {
      problems.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: scanhook ${compareRubygems(x.value, y.value)}, Gem ${String(c)}`);
    }
    return problems;
  });
}

describe.runIf(shouldRun(ruby))("RubyGems versions against Gem::Version", () => {
  it("agrees on real gem, npm, PyPI and Maven versions", async () => {
    requireTool(ruby);
    const pairs = [
      ...pairsOf(readSample("rubygems.txt"), 500, 71),
      ...pairsOf(readSample("npm.txt"), 2000, 72),
      ...pairsOf(readSample("pypi.txt"), 2000, 73),
      ...pairsOf(readSample("maven.txt"), 2000, 74)
    ];
    expect(pairs.length).toBeGreaterThan(20_000);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated edge cases", async () => {
    requireTool(ruby);
    const stem = fc.constantFrom("1", "1.0", "0", "1.0.0", " 1.2", "2.a", "1.0.0.0", "");
    const pieces = [".", "-", "0", "00", "1", "10", "a", "b", "pre", "rc", "Z", "alpha", ".0", "-1", " ", "\n", "_"];
    const pairs = generatedPairs(stem, pieces, 8000, 75, 5);
    expect(await disagreements(pairs)).toEqual([]);
  });
});
