import { compareDigits, compareStrings, defineComparator, invalid, ok, sign, type Ordering, type Parsed } from "./types.js";

/**
 * Semantic Versioning 2.0.0 (https://semver.org/spec/v2.0.0.html), in two flavours:
 *
 * - {@link npmSemver}: exactly what the npm `semver` package (strict mode) accepts and how it
 *   orders, since npm installs by it: surrounding white space and a leading `v` are allowed, at
 *   most 256 characters, major/minor/patch at most 2^53 − 1, and numeric pre-release identifiers
 *   compared as JavaScript numbers (so two huge ones that round to the same double are equal).
 * - {@link strictSemver}: the grammar of SemVer 2.0.0 itself, no prefix and no white space,
 *   numbers unbounded; used for crates.io (Cargo's `semver` crate rejects the same strings) and
 *   for OSV `SEMVER` ranges, whose versions "are semantic versions as defined by SemVer 2.0.0,
 *   with no leading v prefix".
 *
 * Both order by precedence (§11): build metadata is ignored.
 */
export interface SemVer {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: readonly string[];
  readonly build: readonly string[];
}

const NUM = "0|[1-9]\\d*";
const PRE_ID = `(?:${NUM}|\\d*[a-zA-Z-][a-zA-Z0-9-]*)`;
const BUILD_ID = "[0-9a-zA-Z-]+";
const SEMVER_BODY = `(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?`;
const STRICT = new RegExp(`^${SEMVER_BODY}$`);
const NPM = new RegExp(`^v?${SEMVER_BODY}$`);

function fromMatch(m: RegExpExecArray): SemVer {
  return {
    major: m[1] ?? "0",
    minor: m[2] ?? "0",
    patch: m[3] ?? "0",
    prerelease: m[4] === undefined ? [] : m[4].split("."),
    build: m[5] === undefined ? [] : m[5].split(".")
  };
}

export function parseStrictSemver(input: string): Parsed<SemVer> {
  const m = STRICT.exec(input);
  return m === null ? invalid("not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] as SemVer 2.0.0 defines it") : ok(fromMatch(m));
}

const NPM_MAX_LENGTH = 256;

export function parseNpmSemver(input: string): Parsed<SemVer> {
  if (input.length > NPM_MAX_LENGTH) return invalid(`longer than ${NPM_MAX_LENGTH} characters`);
  const m = NPM.exec(input.trim());
  if (m === null) return invalid("not [v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]");
  const v = fromMatch(m);
  for (const [name, value] of [["major", v.major], ["minor", v.minor], ["patch", v.patch]] as const) {
    if (Number(value) > Number.MAX_SAFE_INTEGER) return invalid(`${name} version above 2^53 - 1`);
  }
  return ok(v);
}

const isNumeric = (id: string): boolean => /^[0-9]+$/.test(id);

// SemVer §11.4: numeric identifiers numerically, below alphanumeric ones, which compare in ASCII order.
function compareIdentifier(a: string, b: string, numeric: (x: string, y: string) => Ordering): Ordering {
  const an = isNumeric(a);
  const bn = isNumeric(b);
  if (an && bn) return numeric(a, b);
  if (an) return -1;
  if (bn) return 1;
  return compareStrings(a, b);
}

function comparePrecedence(a: SemVer, b: SemVer, main: (x: string, y: string) => Ordering, pre: (x: string, y: string) => Ordering): Ordering {
  const m = main(a.major, b.major) || main(a.minor, b.minor) || main(a.patch, b.patch);
  if (m !== 0) return m;
  // A release is newer than its pre-releases (§11.3).
  if (a.prerelease.length === 0) return b.prerelease.length === 0 ? 0 : 1;
  if (b.prerelease.length === 0) return -1;
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const r = compareIdentifier(a.prerelease[i] ?? "", b.prerelease[i] ?? "", pre);
    if (r !== 0) return r;
  }
  return sign(a.prerelease.length - b.prerelease.length);
}

const asDouble = (x: string, y: string): Ordering => sign(Number(x) - Number(y));

export const compareStrictSemver = (a: SemVer, b: SemVer): Ordering => comparePrecedence(a, b, compareDigits, compareDigits);
export const compareNpmSemver = (a: SemVer, b: SemVer): Ordering => comparePrecedence(a, b, asDouble, asDouble);

export const npmSemver = defineComparator<SemVer>({
  name: "semver-npm",
  version: 1,
  spec: "https://github.com/npm/node-semver#versions",
  parse: parseNpmSemver,
  compare: compareNpmSemver
});

export const strictSemver = defineComparator<SemVer>({
  name: "semver",
  version: 1,
  spec: "https://semver.org/spec/v2.0.0.html",
  parse: parseStrictSemver,
  compare: compareStrictSemver
});
