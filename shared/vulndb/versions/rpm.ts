import { compareDigits, compareStrings, defineComparator, invalid, ok, type Ordering, type Parsed } from "./types.js";

/**
 * RPM versions (Red Hat, Rocky, Alma, SUSE, openSUSE, Azure Linux, Photon, Mageia, openEuler):
 * `[epoch:]version[-release]`, ordered as rpm's `rpmvercmp()` and python `rpm.labelCompare()`
 * order them.
 *
 * Spec: rpm's version comparison (https://rpm-software-management.github.io/rpm/manual/dependencies.html#versioning
 * and `rpmio/rpmvercmp.c`): alphanumeric segments, digits numerically and newer than letters,
 * `~` before everything (even the end), `^` after the end but before any further segment. The
 * epoch defaults to 0; a missing release sorts before any release, as `labelCompare` has it
 * (a `None` release is less than a present one).
 *
 * Rejected: an empty string, white space, an epoch that is not digits, an empty version or an
 * empty release after its `-`: rpm cannot build a package with any of these.
 */
export interface RpmVersion {
  readonly epoch: string;
  readonly version: string;
  readonly release: string | undefined;
}

export function parseRpm(input: string): Parsed<RpmVersion> {
  if (input === "") return invalid("empty version");
  if (/\s/.test(input)) return invalid("white space in version");
  let rest = input;
  let epoch = "0";
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    epoch = rest.slice(0, colon);
    if (!/^\d+$/.test(epoch)) return invalid("epoch is not a number");
    rest = rest.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf("-");
  const version = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const release = hyphen >= 0 ? rest.slice(hyphen + 1) : undefined;
  if (version === "") return invalid("empty version part");
  if (release === "") return invalid("empty release after '-'");
  if (version.includes(":")) return invalid("more than one ':'");
  return ok({ epoch, version, release });
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isAlpha = (c: string): boolean => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
const isAlnum = (c: string): boolean => isDigit(c) || isAlpha(c);

/** rpm's `rpmvercmp()` on two strings. */
export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const ch = (s: string, k: number): string => (k < s.length ? s.charAt(k) : "");
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(ch(a, i)) && ch(a, i) !== "~" && ch(a, i) !== "^") i++;
    while (j < b.length && !isAlnum(ch(b, j)) && ch(b, j) !== "~" && ch(b, j) !== "^") j++;

    if (ch(a, i) === "~" || ch(b, j) === "~") {
      if (ch(a, i) !== "~") return 1;
      if (ch(b, j) !== "~") return -1;
      i++;
      j++;
      continue;
    }
    // '^' is like '~' except that a version that ended is the older one.
    if (ch(a, i) === "^" || ch(b, j) === "^") {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (ch(a, i) !== "^") return 1;
      if (ch(b, j) !== "^") return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigit(ch(a, i));
    const run = numeric ? isDigit : isAlpha;
    let ei = i;
    while (ei < a.length && run(ch(a, ei))) ei++;
    let ej = j;
    while (ej < b.length && run(ch(b, ej))) ej++;
    // A numeric segment is newer than an alphabetic one.
    if (ej === j) return numeric ? 1 : -1;
    const sa = a.slice(i, ei);
    const sb = b.slice(j, ej);
    const r = numeric ? compareDigits(sa, sb) : compareStrings(sa, sb);
    if (r !== 0) return r;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export function compareRpm(a: RpmVersion, b: RpmVersion): Ordering {
  const e = rpmvercmp(a.epoch, b.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === undefined || b.release === undefined) {
    return a.release === b.release ? 0 : a.release === undefined ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

export const rpm = defineComparator<RpmVersion>({
  name: "rpm",
  version: 1,
  spec: "https://rpm-software-management.github.io/rpm/manual/dependencies.html#versioning",
  parse: parseRpm,
  compare: compareRpm
});
