import { compareDigits, compareStrings, defineComparator, invalid, ok, type Ordering, type Parsed } from "./types.js";

/**
 * RubyGems versions, ordered as `Gem::Version#<=>` orders them
 * (https://guides.rubygems.org/patterns/#semantic-versioning,
 * https://ruby-doc.org/stdlib/libdoc/rubygems/rdoc/Gem/Version.html).
 *
 * Accepted as `Gem::Version.correct?` accepts: digits, then `.`-separated alphanumeric parts,
 * optionally `-` and more parts (a `-` reads as `.pre.`), with white space around; an empty or
 * blank string is version 0. Segments are digit runs and letter runs; a version with any letter
 * segment is a pre-release. Trailing zeros of the numeric part and of the pre-release part are
 * ignored; a letter segment sorts before a number, letters compare by bytes, numbers by value.
 */
export type GemSegment = { readonly num: string } | { readonly str: string };
export type GemVersion = readonly GemSegment[];

// Ruby's \s is [ \t\r\n\f\v].
const CORRECT = /^[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?[ \t\r\n\f\v]*$/;

const isZero = (s: GemSegment): boolean => "num" in s && /^0+$/.test(s.num);

function dropTrailingZeros(segments: GemSegment[]): GemSegment[] {
  let end = segments.length;
  while (end > 0) {
    const last = segments[end - 1];
    if (last === undefined || !isZero(last)) break;
    end--;
  }
  return segments.slice(0, end);
}

export function parseRubygems(input: string): Parsed<GemVersion> {
  // JavaScript's $ matches only at the very end, as Ruby's \z does.
  if (!CORRECT.test(input)) return invalid("malformed version number string");
  const text = input.trim() === "" ? "0" : input.replace(/^[ \t\r\n\f\v\0]+|[ \t\r\n\f\v\0]+$/g, "").replaceAll("-", ".pre.");
  const segments: GemSegment[] = (text.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) => (/^[0-9]+$/.test(s) ? { num: s } : { str: s }));
  // canonical_segments: the numeric part and the pre-release part each lose trailing zeros.
  const firstString = segments.findIndex((s) => "str" in s);
  const numeric = firstString < 0 ? segments : segments.slice(0, firstString);
  const rest = firstString < 0 ? [] : segments.slice(firstString);
  return ok([...dropTrailingZeros(numeric), ...dropTrailingZeros(rest)]);
}

export function compareRubygems(a: GemVersion, b: GemVersion): Ordering {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i] ?? { num: "0" };
    const r = b[i] ?? { num: "0" };
    if ("num" in l && "num" in r) {
      const c = compareDigits(l.num, r.num);
      if (c !== 0) return c;
    } else if ("str" in l && "str" in r) {
      const c = compareStrings(l.str, r.str);
      if (c !== 0) return c;
    } else {
      return "str" in l ? -1 : 1;
    }
  }
  return 0;
}

export const rubygems = defineComparator<GemVersion>({
  name: "rubygems",
  version: 1,
  spec: "https://ruby-doc.org/stdlib/libdoc/rubygems/rdoc/Gem/Version.html",
  parse: parseRubygems,
  compare: compareRubygems
});
