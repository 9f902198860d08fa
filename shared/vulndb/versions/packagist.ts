import { defineComparator, invalid, ok, type Ordering, type Parsed } from "./types.js";

/**
 * Composer (Packagist) versions, ordered as `Composer\Semver\Comparator` orders them: each
 * version normalised by `VersionParser::normalize()` (https://getcomposer.org/doc/articles/versions.md),
 * then compared with PHP's `version_compare()` (https://www.php.net/manual/en/function.version-compare.php).
 *
 * Normalisation: a `v` prefix is dropped, one to four numeric parts are padded to four
 * (`1.2` → `1.2.0.0`), date versions (`20240131`) are kept, stability suffixes are spelled out
 * (`a`/`alpha` → `alpha`, `b` → `beta`, `rc` → `RC`, `p`/`pl`/`patch` → `patch`, then `-dev`),
 * build metadata and `@stability` flags are dropped, and `1.x-dev` becomes `1.9999999.9999999.9999999-dev`.
 * Order: `dev` < `alpha` < `beta` < `RC` < the release < `patch`.
 *
 * Rejected: what `normalize()` rejects, and branch names (`dev-main`), which Composer does not
 * order against versions.
 */
export type ComposerVersion = string;

const MODIFIER = "[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\\d+)*)?)?([.-]?dev)?";
const CLASSICAL = new RegExp(`^v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?${MODIFIER}$`, "i");
const DATE = new RegExp(`^v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3})?)${MODIFIER}$`, "i");
const STABILITY_FLAG = /@(?:stable|RC|beta|alpha|dev)$/i;

// PHP's trim() default set.
// eslint-disable-next-line no-control-regex
const phpTrim = (s: string): string => s.replace(/^[ \t\n\r\0\x0B]+|[ \t\n\r\0\x0B]+$/g, "");

function expandStability(s: string): string {
  const x = s.toLowerCase();
  if (x === "a") return "alpha";
  if (x === "b") return "beta";
  if (x === "p" || x === "pl") return "patch";
  if (x === "rc") return "RC";
  return x;
}

function normalizeBranch(name: string): string {
  const m = /^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$/i.exec(phpTrim(name));
  if (m === null) return `dev-${name}`;
  let v = "";
  for (let i = 1; i < 5; i++) {
    const part = m[i];
    v += part === undefined ? ".x" : part.replace(/[*X]/g, "x");
  }
  return `${v.replaceAll("x", "9999999")}-dev`;
}

/** `VersionParser::normalize()`; a string that is returned starting with `dev-` is a branch. */
export function normalizeComposer(input: string): string | undefined {
  let version = phpTrim(input);
  const alias = /^([^,\s]+) +as +([^,\s]+)$/.exec(version);
  if (alias !== null) version = alias[1] ?? version;
  const flag = STABILITY_FLAG.exec(version);
  if (flag !== null) version = version.slice(0, version.length - flag[0].length);
  if (version === "master" || version === "trunk" || version === "default") version = `dev-${version}`;
  if (version.toLowerCase().startsWith("dev-")) return `dev-${version.slice(4)}`;
  const build = /^([^,\s+]+)\+[^\s]+$/.exec(version);
  if (build !== null) version = build[1] ?? version;

  let m = CLASSICAL.exec(version);
  let index = 5;
  if (m !== null) {
    version = `${m[1] ?? ""}${m[2] || ".0"}${m[3] || ".0"}${m[4] || ".0"}`;
  } else {
    m = DATE.exec(version);
    index = 2;
    if (m !== null) version = (m[1] ?? "").replace(/\D/g, ".");
  }
  if (m !== null) {
    const stability = m[index];
    if (stability) {
      if (stability === "stable") return version;
      const number = m[index + 1];
      version += `-${expandStability(stability)}${number ? number.replace(/^[.-]+/, "") : ""}`;
    }
    if (m[index + 2]) version += "-dev";
    return version;
  }
  const dev = /^(.*?)[.-]?dev$/i.exec(version);
  if (dev !== null) {
    const normalized = normalizeBranch(dev[1] ?? "");
    if (!normalized.includes("dev-")) return normalized;
  }
  return undefined;
}

export function parsePackagist(input: string): Parsed<ComposerVersion> {
  const normalized = normalizeComposer(input);
  if (normalized === undefined) return invalid("Composer cannot normalise it (VersionParser::normalize rejects it)");
  if (normalized.startsWith("dev-")) return invalid("a branch name, which Composer does not order against versions");
  return ok(normalized);
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isAlnum = (c: string): boolean => isDigit(c) || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");

/** PHP's `php_canonicalize_version()`: separators become `.`, and `.` goes between digits and non-digits. */
function canonicalize(v: string): string {
  if (v === "") return "";
  let out = v.charAt(0);
  let lp = v.charAt(0);
  for (let i = 1; i < v.length; i++) {
    const c = v.charAt(i);
    const lq = out.charAt(out.length - 1);
    const digit = (x: string): boolean => isDigit(x) && x !== ".";
    const nonDigit = (x: string): boolean => !isDigit(x) && x !== ".";
    if (c === "-" || c === "_" || c === "+") {
      if (lq !== ".") out += ".";
    } else if ((nonDigit(lp) && digit(c)) || (digit(lp) && nonDigit(c))) {
      if (lq !== ".") out += ".";
      out += c;
    } else if (!isAlnum(c)) {
      if (lq !== ".") out += ".";
    } else {
      out += c;
    }
    lp = c;
  }
  return out;
}

const SPECIAL_FORMS: readonly (readonly [string, number])[] = [
  ["dev", 0],
  ["alpha", 1],
  ["a", 1],
  ["beta", 2],
  ["b", 2],
  ["RC", 3],
  ["rc", 3],
  ["#", 4],
  ["pl", 5],
  ["p", 5]
];

function specialForm(form: string): number {
  for (const [name, order] of SPECIAL_FORMS) if (form.startsWith(name)) return order;
  return -1;
}

const compareSpecial = (a: string, b: string): Ordering => {
  const d = specialForm(a) - specialForm(b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
};

const LONG_MAX = 2n ** 63n - 1n;
// strtol() on a piece that starts with a digit: the leading digits, saturating at LONG_MAX.
function strtol(s: string): bigint {
  const digits = /^[0-9]+/.exec(s)?.[0] ?? "0";
  const n = BigInt(digits);
  return n > LONG_MAX ? LONG_MAX : n;
}

/** PHP's `version_compare($a, $b)`. */
export function phpVersionCompare(a: string, b: string): Ordering {
  if (a === "" || b === "") return a === b ? 0 : a === "" ? -1 : 1;
  const v1 = a.startsWith("#") ? a : canonicalize(a);
  const v2 = b.startsWith("#") ? b : canonicalize(b);
  // Walk both strings piece by piece; `more1`/`more2` say whether a '.' followed the piece.
  let p1 = 0;
  let p2 = 0;
  let more1 = true;
  let more2 = true;
  let compare: Ordering = 0;
  while (p1 < v1.length && p2 < v2.length && more1 && more2) {
    const n1 = v1.indexOf(".", p1);
    const n2 = v2.indexOf(".", p2);
    more1 = n1 >= 0;
    more2 = n2 >= 0;
    const s1 = v1.slice(p1, more1 ? n1 : undefined);
    const s2 = v2.slice(p2, more2 ? n2 : undefined);
    const d1 = isDigit(s1.charAt(0));
    const d2 = isDigit(s2.charAt(0));
    if (d1 && d2) {
      const x = strtol(s1);
      const y = strtol(s2);
      compare = x < y ? -1 : x > y ? 1 : 0;
    } else if (!d1 && !d2) {
      compare = compareSpecial(s1, s2);
    } else if (d1) {
      compare = compareSpecial("#N#", s2);
    } else {
      compare = compareSpecial(s1, "#N#");
    }
    if (compare !== 0) break;
    if (more1) p1 = n1 + 1;
    if (more2) p2 = n2 + 1;
  }
  if (compare === 0) {
    if (more1) {
      compare = isDigit(v1.charAt(p1)) ? 1 : phpVersionCompare(v1.slice(p1), "#N#");
    } else if (more2) {
      compare = isDigit(v2.charAt(p2)) ? -1 : phpVersionCompare("#N#", v2.slice(p2));
    }
  }
  return compare;
}

export const comparePackagist = (a: ComposerVersion, b: ComposerVersion): Ordering => phpVersionCompare(a, b);

export const packagist = defineComparator<ComposerVersion>({
  name: "composer",
  version: 1,
  spec: "https://getcomposer.org/doc/articles/versions.md",
  parse: parsePackagist,
  compare: comparePackagist
});
