import { defineComparator, invalid, ok, type Ordering, type Parsed } from "./types.js";

/**
 * Alpine, Wolfi and Chainguard package versions, ordered as apk-tools orders them:
 * `digit{.digit}…{letter}{_suffix{number}}…{~hash}{-r#}`.
 *
 * Spec: apk-tools `src/version.c` and its test vectors `test/unit/version.data`
 * (https://gitlab.alpinelinux.org/alpine/apk-tools), which the oracle test replays line by line.
 * Pre-release suffixes (`_alpha`, `_beta`, `_pre`, `_rc`) sort before the bare version, the rest
 * (`_cvs`, `_svn`, `_git`, `_hg`, `_p`) after it. A digit run with a leading zero (after the first)
 * compares as a string, as Gentoo's rules say.
 *
 * apk orders even invalid strings (it compares the valid prefix); {@link parseApk} rejects them,
 * and {@link compareApkStrings} exposes apk's full behaviour for the vector test.
 */
export type ApkVersion = string;

// Token kinds in apk's order: a later kind may only follow an earlier one, and at the end of a
// common prefix the version that stopped at the larger kind is the smaller version.
const Tok = {
  InitialDigit: 0,
  Digit: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNo: 4,
  CommitHash: 5,
  RevisionNo: 6,
  End: 7,
  Invalid: 8
} as const;
type Tok = (typeof Tok)[keyof typeof Tok];

// Position in this list is the suffix's rank; NONE (a version without suffix) sits between.
const SUFFIXES = ["alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"] as const;
const SUFFIX_NONE = 4;

interface TokenState {
  token: Tok;
  suffix: number;
  number: bigint;
  value: string;
  pos: number;
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isLower = (c: string): boolean => c >= "a" && c <= "z";
const isHex = (c: string): boolean => isDigit(c) || (c >= "a" && c <= "f");

function parseDigits(t: TokenState, s: string): void {
  const start = t.pos;
  let n = 0n;
  while (t.pos < s.length && isDigit(s.charAt(t.pos))) {
    // apk accumulates in a uint64_t, which wraps.
    n = BigInt.asUintN(64, n * 10n + BigInt(s.charCodeAt(t.pos) - 48));
    t.pos++;
  }
  t.number = n;
  t.value = s.slice(start, t.pos);
  if (t.value.length === 0) t.token = Tok.Invalid;
}

function first(s: string): TokenState {
  const t: TokenState = { token: Tok.InitialDigit, suffix: 0, number: 0n, value: "", pos: 0 };
  parseDigits(t, s);
  return t;
}

function next(t: TokenState, s: string): void {
  if (t.pos >= s.length) {
    t.token = Tok.End;
    return;
  }
  const c = s.charAt(t.pos);
  if (isLower(c)) {
    if (t.token > Tok.Digit) return void (t.token = Tok.Invalid);
    t.value = c;
    t.token = Tok.Letter;
    t.pos++;
    return;
  }
  if (c === "." || isDigit(c)) {
    if (c === ".") {
      if (t.token > Tok.Digit) return void (t.token = Tok.Invalid);
      t.pos++;
    }
    if (t.token === Tok.InitialDigit || t.token === Tok.Digit) t.token = Tok.Digit;
    else if (t.token === Tok.Suffix) t.token = Tok.SuffixNo;
    else return void (t.token = Tok.Invalid);
    parseDigits(t, s);
    return;
  }
  if (c === "_") {
    if (t.token > Tok.SuffixNo) return void (t.token = Tok.Invalid);
    t.pos++;
    const start = t.pos;
    while (t.pos < s.length && isLower(s.charAt(t.pos))) t.pos++;
    t.value = s.slice(start, t.pos);
    const rank = t.value === "" ? -1 : SUFFIXES.indexOf(t.value as (typeof SUFFIXES)[number]);
    if (rank < 0) return void (t.token = Tok.Invalid);
    t.suffix = rank;
    t.token = Tok.Suffix;
    return;
  }
  if (c === "~") {
    if (t.token >= Tok.CommitHash) return void (t.token = Tok.Invalid);
    t.pos++;
    const start = t.pos;
    while (t.pos < s.length && isHex(s.charAt(t.pos))) t.pos++;
    t.value = s.slice(start, t.pos);
    if (t.value.length === 0) return void (t.token = Tok.Invalid);
    t.token = Tok.CommitHash;
    return;
  }
  if (c === "-") {
    if (t.token >= Tok.RevisionNo || !s.startsWith("-r", t.pos)) return void (t.token = Tok.Invalid);
    t.pos += 2;
    t.token = Tok.RevisionNo;
    parseDigits(t, s);
    return;
  }
  t.token = Tok.Invalid;
}

// apk_blob_sort: memcmp over the common length, then the shorter first.
function blobSort(a: string, b: string): Ordering {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function tokenCompare(a: TokenState, b: TokenState): Ordering {
  let x: bigint;
  let y: bigint;
  switch (a.token) {
    case Tok.Digit:
      if (a.value.startsWith("0") || b.value.startsWith("0")) return blobSort(a.value, b.value);
      x = a.number;
      y = b.number;
      break;
    case Tok.InitialDigit:
    case Tok.SuffixNo:
    case Tok.RevisionNo:
      x = a.number;
      y = b.number;
      break;
    case Tok.Letter:
      x = BigInt(a.value.charCodeAt(0));
      y = BigInt(b.value.charCodeAt(0));
      break;
    case Tok.Suffix:
      x = BigInt(a.suffix);
      y = BigInt(b.suffix);
      break;
    default:
      return blobSort(a.value, b.value);
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * apk's comparison of two strings, valid or not. With `fuzzy`, `a` equals `b` when `b` is a
 * prefix of `a` by whole tokens (apk's `~` operator).
 */
export function compareApkStrings(a: string, b: string, fuzzy = false): Ordering {
  const ta = first(a);
  const tb = first(b);
  while (ta.token === tb.token && ta.token < Tok.End) {
    const r = tokenCompare(ta, tb);
    if (r !== 0) return r;
    next(ta, a);
    next(tb, b);
  }
  if (ta.token === tb.token) return 0;
  if (tb.token === Tok.End && fuzzy) return 0;
  if (ta.token === Tok.Suffix && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === Tok.Suffix && tb.suffix < SUFFIX_NONE) return 1;
  if (ta.token > tb.token) return -1;
  if (tb.token > ta.token) return 1;
  return 0;
}

export function parseApk(input: string): Parsed<ApkVersion> {
  const t = first(input);
  while (t.token < Tok.End) next(t, input);
  if (t.token === Tok.End) return ok(input);
  const at = Math.min(t.pos, input.length);
  return invalid(`not an apk version (digit{.digit}…{letter}{_suffix{#}}…{~hash}{-r#}): stops at offset ${at}`);
}

export const apk = defineComparator<ApkVersion>({
  name: "apk",
  version: 1,
  spec: "https://gitlab.alpinelinux.org/alpine/apk-tools/-/blob/master/src/version.c",
  parse: parseApk,
  compare: (a, b) => compareApkStrings(a, b)
});
