import { ScanhookError } from "../../domain/errors.js";
import { apk } from "./apk.js";
import { dpkg } from "./dpkg.js";
import { go } from "./go.js";
import { maven } from "./maven.js";
import { nuget } from "./nuget.js";
import { packagist } from "./packagist.js";
import { pep440 } from "./pep440.js";
import { rpm } from "./rpm.js";
import { rubygems } from "./rubygems.js";
import { npmSemver, strictSemver } from "./semver.js";
import type { Comparator, Ordering, Version } from "./types.js";

export type { Comparator, Ordering, Version } from "./types.js";
export { strictSemver } from "./semver.js";

/**
 * Every OSV ecosystem scanhook can order, by the OSV name before the first `:`
 * (`Debian:12`, `Ubuntu:Pro:18.04:LTS`, `Alpine:v3.20`, `Red Hat:rhel_aus:8.4::appstream` …;
 * names from https://ossf.github.io/osv-schema/#affectedpackage-field). One line per name; an
 * ecosystem missing here is a coverage gap, not a guess.
 */
const ECOSYSTEMS: readonly (readonly [string, Comparator])[] = [
  ["Debian", dpkg],
  ["Ubuntu", dpkg],
  ["Alpine", apk],
  ["Wolfi", apk],
  ["Chainguard", apk],
  ["MinimOS", apk],
  ["Alpaquita", apk],
  ["BellSoft Hardened Containers", apk],
  ["Red Hat", rpm],
  ["Rocky Linux", rpm],
  ["AlmaLinux", rpm],
  ["SUSE", rpm],
  ["openSUSE", rpm],
  ["Azure Linux", rpm],
  ["Photon OS", rpm],
  ["Mageia", rpm],
  ["openEuler", rpm],
  ["npm", npmSemver],
  ["crates.io", strictSemver],
  ["Go", go],
  ["PyPI", pep440],
  ["Maven", maven],
  ["RubyGems", rubygems],
  ["NuGet", nuget],
  ["Packagist", packagist]
];

/** Builds the lookup table; a name listed twice is a programming error found at load. */
export function buildRegistry(entries: readonly (readonly [string, Comparator])[]): ReadonlyMap<string, Comparator> {
  const map = new Map<string, Comparator>();
  for (const [name, comparator] of entries) {
    if (map.has(name)) throw new Error(`version comparator registered twice for ecosystem "${name}"`);
    map.set(name, comparator);
  }
  return map;
}

const registry = buildRegistry(ECOSYSTEMS);

/** The OSV ecosystem names that have a comparator. */
export const supportedEcosystems: readonly string[] = [...registry.keys()];

export type VersionErrorCode = "VERSION.INVALID" | "VERSION.UNSUPPORTED_ECOSYSTEM";

/**
 * A version string the ecosystem would reject, or an ecosystem with no comparator. Returned,
 * never thrown: the matcher turns it into "not matched" plus a warning.
 */
export class VersionError extends ScanhookError {
  override readonly code: VersionErrorCode;
  readonly ecosystem: string;
  readonly input: string;
  readonly reason: string;

  constructor(code: VersionErrorCode, ecosystem: string, input: string, reason: string) {
    const message =
      code === "VERSION.INVALID"
        ? `${ecosystem}: invalid version ${JSON.stringify(input)}: ${reason}`
        : `${ecosystem}: ${reason}`;
    super(code, message, { meta: { ecosystem, input, reason } });
    this.name = "VersionError";
    this.code = code;
    this.ecosystem = ecosystem;
    this.input = input;
    this.reason = reason;
  }
}

export type VersionResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: VersionError };

/** The base OSV ecosystem name: the part before the first `:`. */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(":");
  return colon < 0 ? ecosystem : ecosystem.slice(0, colon);
}

/** The comparator for an OSV ecosystem string, suffixes and all. */
export function comparatorFor(ecosystem: string): VersionResult<Comparator> {
  const comparator = registry.get(baseEcosystem(ecosystem));
  if (comparator === undefined) {
    return { ok: false, error: new VersionError("VERSION.UNSUPPORTED_ECOSYSTEM", ecosystem, "", "no version comparator for this ecosystem") };
  }
  return { ok: true, value: comparator };
}

/** Parses with the ecosystem's comparator; the error names the ecosystem, the input and why. */
export function parseWith(comparator: Comparator, version: string, ecosystem: string): VersionResult<Version> {
  const parsed = comparator.parse(version);
  if (parsed.ok) return parsed;
  return { ok: false, error: new VersionError("VERSION.INVALID", ecosystem, version, parsed.reason) };
}

/** Parses `version` as `ecosystem` (an OSV ecosystem string) would. Never throws. */
export function parseVersion(version: string, ecosystem: string): VersionResult<Version> {
  const comparator = comparatorFor(ecosystem);
  return comparator.ok ? parseWith(comparator.value, version, ecosystem) : comparator;
}

/** Orders two versions as `ecosystem` does: -1, 0 or 1. Never throws. */
export function compareVersions(a: string, b: string, ecosystem: string): VersionResult<Ordering> {
  const comparator = comparatorFor(ecosystem);
  if (!comparator.ok) return comparator;
  const x = parseWith(comparator.value, a, ecosystem);
  if (!x.ok) return x;
  const y = parseWith(comparator.value, b, ecosystem);
  if (!y.ok) return y;
  return { ok: true, value: comparator.value.compare(x.value, y.value) };
}
