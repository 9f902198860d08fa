import { defineComparator, invalid, ok, sign, type Ordering, type Parsed } from "./types.js";

/**
 * Debian and Ubuntu package versions: `[epoch:]upstream[-revision]`, ordered as dpkg orders them.
 *
 * Spec: deb-version(7) and Debian Policy §5.6.12
 * (https://www.debian.org/doc/debian-policy/ch-controlfields.html#version). Acceptance follows
 * dpkg's own `parseversion()`: what it calls an error (empty string, embedded blanks, a bad or
 * out-of-range epoch, nothing after the colon, an empty revision, an empty upstream) is rejected;
 * what it only warns about (upstream not starting with a digit, unusual characters) is accepted
 * and ordered, because `dpkg --compare-versions` orders it too.
 *
 * Characters are compared as dpkg compares C `char`s: on the UTF-8 bytes, with a byte ≥ 0x80
 * sorting by its value as dpkg's `order()` computes it for a signed `char`.
 */
export interface DpkgVersion {
  readonly epoch: number;
  /** As dpkg sees it, one char per byte (see {@link byteString}). */
  readonly upstream: string;
  readonly revision: string;
}

const INT_MAX = 2_147_483_647;

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * The string with one char per UTF-8 byte, the char code being the byte: dpkg compares bytes, and
 * a string compares faster and weighs less than a typed array. Versions are ASCII in practice,
 * and an ASCII string is its own byte string.
 */
function byteString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, "utf8").toString("latin1");
  }
  return text;
}

export function parseDpkg(input: string): Parsed<DpkgVersion> {
  let start = 0;
  while (start < input.length && isBlank(input.charCodeAt(start))) start++;
  if (start === input.length) return invalid("version string is empty");
  let end = start;
  while (end < input.length && !isBlank(input.charCodeAt(end))) end++;
  for (let i = end; i < input.length; i++) {
    if (!isBlank(input.charCodeAt(i))) return invalid("version string has embedded spaces");
  }
  let text = start === 0 && end === input.length ? input : input.slice(start, end);

  let epoch = 0;
  const colon = text.indexOf(":");
  if (colon >= 0) {
    // The epoch is read with strtol(): C white space and a sign may precede the digits.
    const m = /^([\t-\r ]*)([+-]?)(\d*)/.exec(text);
    const digits = m?.[3] ?? "";
    if (digits === "") return invalid("epoch in version is empty");
    const consumed = (m?.[0] ?? "").length;
    if (consumed !== colon) return invalid("epoch in version is not number");
    const value = BigInt(digits) * (m?.[2] === "-" ? -1n : 1n);
    if (value < 0n) return invalid("epoch in version is negative");
    if (value > BigInt(INT_MAX)) return invalid("epoch in version is too big");
    if (colon + 1 === text.length) return invalid("nothing after colon in version number");
    epoch = Number(value);
    text = text.slice(colon + 1);
  }

  const hyphen = text.lastIndexOf("-");
  let upstream = text;
  let revision = "";
  if (hyphen >= 0) {
    upstream = text.slice(0, hyphen);
    revision = text.slice(hyphen + 1);
    if (revision === "") return invalid("revision number is empty");
  }
  if (upstream === "") return invalid("version number is empty");
  return ok({ epoch, upstream: byteString(upstream), revision: byteString(revision) });
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

// dpkg's order(): '~' before the end of a part, the end before letters, letters before the rest.
// A byte ≥ 0x80 is a negative signed char, and c + 256 brings it back to its unsigned value.
function order(c: number): number {
  if (c === 0 || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1;
  return c >= 0x80 ? c : c + 256;
}

/** dpkg's `verrevcmp`: alternating non-digit and digit runs; a missing byte reads as NUL. */
export function compareDpkgPart(a: string, b: string): Ordering {
  const al = a.length;
  const bl = b.length;
  let i = 0;
  let j = 0;
  while (i < al || j < bl) {
    for (;;) {
      const ca = i < al ? a.charCodeAt(i) : 0;
      const cb = j < bl ? b.charCodeAt(j) : 0;
      if (!((i < al && !isDigit(ca)) || (j < bl && !isDigit(cb)))) break;
      const ac = order(ca);
      const bc = order(cb);
      if (ac !== bc) return ac < bc ? -1 : 1;
      i++;
      j++;
    }
    while (i < al && a.charCodeAt(i) === 0x30) i++;
    while (j < bl && b.charCodeAt(j) === 0x30) j++;
    let firstDiff = 0;
    for (;;) {
      const ca = i < al ? a.charCodeAt(i) : 0;
      const cb = j < bl ? b.charCodeAt(j) : 0;
      const da = isDigit(ca);
      const db = isDigit(cb);
      if (da && db) {
        if (firstDiff === 0) firstDiff = ca - cb;
        i++;
        j++;
        continue;
      }
      if (da) return 1;
      if (db) return -1;
      break;
    }
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

export function compareDpkg(a: DpkgVersion, b: DpkgVersion): Ordering {
  if (a.epoch !== b.epoch) return sign(a.epoch - b.epoch);
  return compareDpkgPart(a.upstream, b.upstream) || compareDpkgPart(a.revision, b.revision);
}

export const dpkg = defineComparator<DpkgVersion>({
  name: "dpkg",
  version: 1,
  spec: "https://manpages.debian.org/bookworm/dpkg-dev/deb-version.7.en.html",
  parse: parseDpkg,
  compare: compareDpkg
});
