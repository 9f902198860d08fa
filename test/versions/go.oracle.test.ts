import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareGo, parseGo } from "../../shared/vulndb/versions/go.js";
import { probe, requireTool, runOracle, shouldRun } from "./oracle.js";
import { generatedPairs, pairsOf, readSample, type Pair } from "./pairs.js";

/**
 * Oracle: `golang.org/x/mod/semver` from Debian's golang-golang-x-mod-dev, through a small Go
 * program compiled here offline with Debian's golang-go in GOPATH mode (GOPATH=/usr/share/gocode,
 * where Debian installs the source; no module proxy, no network). One process answers every pair:
 * validity of both sides and `semver.Compare`.
 *
 * Pairs: the real Go module versions in samples/go.txt (pseudo-versions and +incompatible
 * included), the real npm versions with a `v` in front, and seeded generated ones around
 * shorthands, leading zeros, pre-release identifiers and build metadata.
 */
const GOPATH = "/usr/share/gocode";
const goTool = probe("go", ["list", "golang.org/x/mod/semver"], "golang-go golang-golang-x-mod-dev", {
  ...process.env,
  GO111MODULE: "off",
  GOPATH,
  GOFLAGS: "",
  GOPROXY: "off",
  GOCACHE: join(tmpdir(), "scanhook-go-probe-cache")
});

const PROGRAM = `package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		p := strings.SplitN(in.Text(), "\\t", 2)
		fmt.Fprintf(out, "%t %t %d\\n", semver.IsValid(p[0]), semver.IsValid(p[1]), semver.Compare(p[0], p[1]))
	}
}
`;

let dir = "";
let binary = "";

beforeAll(async () => {
  if (!goTool.available) return;
  dir = mkdtempSync(join(tmpdir(), "scanhook-go-oracle-"));
  writeFileSync(join(dir, "main.go"), PROGRAM);
  binary = join(dir, "oracle");
  await runOracle("go", ["build", "-o", binary, join(dir, "main.go")], "", {
    cwd: dir,
    env: { ...process.env, GO111MODULE: "off", GOPATH, GOFLAGS: "", GOPROXY: "off", GOCACHE: join(dir, "cache") }
  });
}, 300_000);

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

// x/mod wants the v; our parser also takes OSV's spelling without it, so the oracle gets the v.
const withV = (s: string): string => (s.startsWith("v") ? s : `v${s}`);

async function disagreements(pairs: readonly Pair[]): Promise<string[]> {
  const clean = pairs.filter(([a, b]) => !/[\t\n\r]/.test(a + b)).map(([a, b]) => [withV(a), withV(b)] as const);
  const out = await runOracle(binary, [], clean.map(([a, b]) => `${a}\t${b}`).join("\n") + "\n");
  const lines = out.trim().split("\n");
  expect(lines.length).toBe(clean.length);
  return clean.flatMap(([a, b], i) => {
    const [va, vb, c] = (lines[i] ?? "").split(" ");
    const x = parseGo(a);
    const y = parseGo(b);
    const problems: string[] = [];
    if (String(x.ok) !== va) problems.push(`${a}: x/mod valid=${String(va)}, scanhook ${String(x.ok)}`);
    if (String(y.ok) !== vb) problems.push(`${b}: x/mod valid=${String(vb)}, scanhook ${String(y.ok)}`);
    if (x.ok && y.ok && String(compareGo(x.value, y.value)) !== c) {
      problems.push(`${a} vs ${b}: scanhook ${compareGo(x.value, y.value)}, x/mod ${String(c)}`);
    }
    return problems;
  });
}

describe.runIf(shouldRun(goTool))("Go versions against golang.org/x/mod/semver", () => {
  it("agrees on real Go module versions and real npm versions", async () => {
    requireTool(goTool);
    const pairs = [...pairsOf(readSample("go.txt"), 3000, 51), ...pairsOf(readSample("npm.txt"), 3000, 52)];
    expect(pairs.length).toBeGreaterThan(14_000);
    expect(await disagreements(pairs)).toEqual([]);
  });

  it("agrees on generated edge cases", async () => {
    requireTool(goTool);
    const stem = fc.constantFrom("v1", "v1.2", "v1.2.3", "v0.0.0", "v2.0.0", "1.20.1", "v01.2.3", "v1.02", "v0.0.0-20191109021931-daa7c04131f5");
    const pieces = ["-", "+", ".", "0", "00", "01", "1", "9", "10", "pre", "rc", "incompatible", "+incompatible", "-0.2019", "x", "-", "A"];
    const pairs = generatedPairs(stem, pieces, 8000, 53, 5);
    expect(await disagreements(pairs)).toEqual([]);
  });
});
