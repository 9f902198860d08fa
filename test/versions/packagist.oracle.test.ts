import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { comparePackagist, parsePackagist } from "../../shared/vulndb/versions/packagist.js";
import { probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedPairs, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: Composer's own code from Debian's php-composer-semver (3.3), through one `php -r`
 * that reads JSON lines of pairs, normalises each side with `VersionParser::normalize()`
 * ("invalid" when it throws, "branch" for a `dev-` branch) and orders the pair with
 * `Comparator::lessThan/equalTo/greaterThan`.
 *
 * Pairs: real npm, PyPI, Maven and Go versions (samples/*.txt: Composer normalises many of them
 * and rejects the rest, and both answers must agree) plus seeded generated Composer spellings:
 * `v` prefixes, stability suffixes with and without numbers and separators, `-dev`, `-patch`,
 * `.x-dev` branches, dates, build metadata and `@stability` flags.
 */
const AUTOLOAD = "/usr/share/php/Composer/Semver/autoload.php";
const php = probe("php", ["-r", `require "${AUTOLOAD}"; new Composer\\Semver\\VersionParser();`], "php-cli php-composer-semver");

const ORACLE = `
require "${AUTOLOAD}";
use Composer\\Semver\\VersionParser;
use Composer\\Semver\\Comparator;
$p = new VersionParser();
$norm = function ($v) use ($p) {
  try { $n = $p->normalize($v); } catch (\\Exception $e) { return null; }
  return strpos($n, "dev-") === 0 ? false : $n;
};
while (($line = fgets(STDIN)) !== false) {
  [$a, $b] = json_decode($line);
  $x = $norm($a); $y = $norm($b);
  $s = function ($n) { return $n === null ? "invalid" : ($n === false ? "branch" : "ok"); };
  $c = "-";
  if (is_string($x) && is_string($y)) {
    $c = Comparator::lessThan($x, $y) ? "-1" : (Comparator::equalTo($x, $y) ? "0" : (Comparator::greaterThan($x, $y) ? "1" : "?"));
  }
  echo $s($x), " ", $s($y), " ", $c, "\\n";
}
`;

function status(v: string): string {
  const p = parsePackagist(v);
  if (p.ok) return "ok";
  return p.reason.startsWith("a branch") ? "branch" : "invalid";
}

async function disagreements(pairs: readonly Pair[]): Promise<string[]> {
  const out = await runOracle("php", ["-r", ORACLE], pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const lines = out.trim().split("\n");
  expect(lines.length).toBe(pairs.length);
  return pairs.flatMap(([a, b], i) => {
    const [sa, sb, c] = (lines[i] ?? "").split(" ");
    const problems: string[] = [];
    if (status(a) !== sa) problems.push(`${JSON.stringify(a)}: Composer ${String(sa)}, scanhook ${status(a)}`);
    if (status(b) !== sb) problems.push(`${JSON.stringify(b)}: Composer ${String(sb)}, scanhook ${status(b)}`);
    const x = parsePackagist(a);
    const y = parsePackagist(b);
    if (x.ok && y.ok && String(comparePackagist(x.value, y.value)) !== c) {
      problems.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: scanhook ${comparePackagist(x.value, y.value)}, Composer ${String(c)}`);
    }
    return problems;
  });
}

describe.runIf(shouldRun(php))("Packagist versions against Composer's VersionParser and Comparator", () => {
  it("agrees on real npm, PyPI, Maven and Go versions", async () => {
    requireTool(php);
    const pairs = [
      ...pairsOf(readSample("npm.txt"), 2000, 81),
      ...pairsOf(readSample("pypi.txt"), 2000, 82),
      ...pairsOf(readSample("maven.txt"), 2000, 83),
      ...pairsOf(readSample("go.txt"), 1000, 84)
    ];
    expect(pairs.length).toBeGreaterThan(20_000);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated Composer spellings", async () => {
    requireTool(php);
    const stem = fc.constantFrom("1", "1.0", "v1.2.3", "V2.0", "1.0.0.0", "2010.01.02", "20100102", "1.2.3.4", "123456", "dev-", "1.x", " 1.0");
    const pieces = ["-", ".", "_", "0", "1", "10", "alpha", "a", "beta", "b", "RC", "rc", "patch", "pl", "p", "stable", "dev", "-dev", ".x-dev", "x", "+build", "@beta", "@dev", " as 1.0", "foo", "master"];
    const pairs = generatedPairs(stem, pieces, 8000, 85, 4);
    expect(await disagreements(pairs)).toEqual([]);
  });
});
