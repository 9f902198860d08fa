import { compareDigits, compareStrings, defineComparator, invalid, ok, sign, type Ordering, type Parsed } from "./types.js";

/**
 * Go module versions, ordered as `golang.org/x/mod/semver` orders them
 * (https://pkg.go.dev/golang.org/x/mod/semver, https://go.dev/ref/mod#versions).
 *
 * Semantic versions with a `v` prefix; `vMAJOR` and `vMAJOR.MINOR` are shorthands for `.0`
 * (without a pre-release or build suffix); numbers are unbounded and may not have leading
 * zeros; pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`) are ordinary pre-releases; and
 * `+incompatible`, being build metadata, does not take part in the order.
 *
 * OSV's Go records write versions without the `v` (`1.20.1`) while build info and go.mod carry
 * it, so a version without `v` is read as if it had one. Anything x/mod/semver calls invalid is
 * rejected (x/mod itself would order every invalid version below every valid one).
 */
export interface GoVersion {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: readonly string[];
}

const NUM = "0|[1-9][0-9]*";
const ID = "[0-9A-Za-z-]+";
const GO = new RegExp(
  `^v(${NUM})(?:\\.(${NUM})(?:\\.(${NUM})(?:-(${ID}(?:\\.${ID})*))?(?:\\+${ID}(?:\\.${ID})*)?)?)?$`
);

export function parseGo(input: string): Parsed<GoVersion> {
  const v = input.startsWith("v") ? input : `v${input}`;
  const m = GO.exec(v);
  if (m === null) return invalid("not a Go semantic version ([v]MAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]])");
  const prerelease = m[4] === undefined ? [] : m[4].split(".");
  if (prerelease.some((id) => /^0[0-9]+$/.test(id))) return invalid("numeric pre-release identifier with a leading zero");
  return ok({ major: m[1] ?? "0", minor: m[2] ?? "0", patch: m[3] ?? "0", prerelease });
}

function compareIdentifier(a: string, b: string): Ordering {
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an && bn) return compareDigits(a, b);
  if (an) return -1;
  if (bn) return 1;
  return compareStrings(a, b);
}

export function compareGo(a: GoVersion, b: GoVersion): Ordering {
  const m = compareDigits(a.major, b.major) || compareDigits(a.minor, b.minor) || compareDigits(a.patch, b.patch);
  if (m !== 0) return m;
  if (a.prerelease.length === 0) return b.prerelease.length === 0 ? 0 : 1;
  if (b.prerelease.length === 0) return -1;
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const r = compareIdentifier(a.prerelease[i] ?? "", b.prerelease[i] ?? "");
    if (r !== 0) return r;
  }
  return sign(a.prerelease.length - b.prerelease.length);
}

export const go = defineComparator<GoVersion>({
  name: "go-semver",
  version: 1,
  spec: "https://pkg.go.dev/golang.org/x/mod/semver",
  parse: parseGo,
  compare: compareGo
});
