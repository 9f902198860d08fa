import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compareApkStrings, parseApk } from "../../shared/vulndb/versions/apk.js";
import { sharedFixture } from "./oracle.js";

/**
 * Debian has no apk-tools, so the oracle for Alpine, Wolfi and Chainguard is apk-tools' own unit
 * test data (`test/unit/version.data`, kept unchanged in test/fixtures/versions/): every line
 * must hold, read exactly as apk-tools' `version_test.c` reads it.
 */
const LESS = 1;
const EQUAL = 2;
const GREATER = 4;

function mask(op: string): number {
  let m = 0;
  for (const c of op) {
    if (c === "<") m |= LESS;
    else if (c === ">") m |= GREATER;
    else if (c === "=" || c === "~") m |= EQUAL;
    else return 0;
  }
  return m;
}

function holds(line: string): boolean {
  const parts = line.split(" ");
  if (parts.length >= 3) {
    const [a = "", rawOp = "", b = ""] = parts;
    const invert = rawOp.startsWith("!");
    const op = invert ? rawOp.slice(1) : rawOp;
    const r = compareApkStrings(a, b, op.includes("~"));
    const result = r < 0 ? LESS : r > 0 ? GREATER : EQUAL;
    return ((result & mask(op)) !== 0) !== invert;
  }
  const invert = line.startsWith("!");
  return parseApk(invert ? line.slice(1) : line).ok !== invert;
}

describe("apk versions against apk-tools' own test vectors", () => {
  const lines = readFileSync(sharedFixture("versions/apk-version.data"), "utf8")
    .split("\n")
    .map((l) => (l.split("#")[0] ?? "").trim())
    .filter((l) => l !== "");

  it("has the vectors", () => {
    expect(lines.length).toBeGreaterThan(700);
  });

  it("holds every line", () => {
    const failures = lines.filter((l) => !holds(l));
    expect(failures).toEqual([]);
  });
});
