import { compareDigits, compareStrings, defineComparator, invalid, ok, sign, type Ordering, type Parsed } from "./types.js";

/**
 * Python package versions (PyPI) per PEP 440 as the `packaging` library implements it
 * (https://packaging.python.org/en/latest/specifications/version-specifiers/).
 *
 * `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]` with every spelling PEP 440 normalises:
 * case-insensitive, a leading `v`, `-`/`_`/`.` separators, `alpha`/`beta`/`c`/`pre`/`preview`
 * for `a`/`b`/`rc`, `rev`/`r`/`-N` for `.post`, implicit zeros, surrounding white space.
 * Releases compare with trailing zeros ignored; a dev release of a release sorts before its
 * pre-releases; local versions sort after the public version and compare segment by segment
 * (numbers above strings). Legacy (non-PEP 440) versions are rejected, as `packaging` ≥ 22
 * rejects them.
 */
export interface Pep440Version {
  readonly epoch: string;
  readonly release: readonly string[];
  readonly pre: { readonly letter: "a" | "b" | "rc"; readonly n: string } | undefined;
  readonly post: string | undefined;
  readonly dev: string | undefined;
  readonly local: readonly string[] | undefined;
}

const PATTERN = new RegExp(
  "^\\s*v?" +
    "(?:(?<epoch>[0-9]+)!)?" +
    "(?<release>[0-9]+(?:\\.[0-9]+)*)" +
    "(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?" +
    "(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?" +
    "(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?" +
    "(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?" +
    "\\s*$",
  "iu"
);

function preLetter(l: string): "a" | "b" | "rc" {
  const x = l.toLowerCase();
  if (x === "a" || x === "alpha") return "a";
  if (x === "b" || x === "beta") return "b";
  return "rc";
}

export function parsePep440(input: string): Parsed<Pep440Version> {
  const m = PATTERN.exec(input);
  const g = m?.groups;
  if (g === undefined || g.release === undefined) return invalid("not a PEP 440 version");
  return ok({
    epoch: g.epoch ?? "0",
    release: g.release.split("."),
    pre: g.pre_l === undefined ? undefined : { letter: preLetter(g.pre_l), n: g.pre_n ?? "0" },
    post: g.post === undefined ? undefined : (g.post_n1 ?? g.post_n2 ?? "0"),
    dev: g.dev === undefined ? undefined : (g.dev_n ?? "0"),
    local: g.local === undefined ? undefined : g.local.toLowerCase().split(/[-_.]/)
  });
}

function compareRelease(a: readonly string[], b: readonly string[]): Ordering {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareDigits(a[i] ?? "0", b[i] ?? "0");
    if (r !== 0) return r;
  }
  return 0;
}

// packaging's sort key puts a dev-only release (1.0.dev0) before every pre-release of 1.0, and
// a release without pre-release after them all.
function preRank(v: Pep440Version): number {
  if (v.pre === undefined) return v.post === undefined && v.dev !== undefined ? -1 : 1;
  return 0;
}

function compareOptionalNumber(a: string | undefined, b: string | undefined, absent: -1 | 1): Ordering {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    return a === undefined ? absent : (-absent as Ordering);
  }
  return compareDigits(a, b);
}

function compareLocal(a: readonly string[] | undefined, b: readonly string[] | undefined): Ordering {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    const r = xn && yn ? compareDigits(x, y) : xn ? 1 : yn ? -1 : compareStrings(x, y);
    if (r !== 0) return r;
  }
  return sign(a.length - b.length);
}

export function comparePep440(a: Pep440Version, b: Pep440Version): Ordering {
  const e = compareDigits(a.epoch, b.epoch) || compareRelease(a.release, b.release);
  if (e !== 0) return e;
  const ra = preRank(a);
  const rb = preRank(b);
  if (ra !== rb) return sign(ra - rb);
  if (a.pre !== undefined && b.pre !== undefined) {
    const p = compareStrings(a.pre.letter, b.pre.letter) || compareDigits(a.pre.n, b.pre.n);
    if (p !== 0) return p;
  }
  return (
    compareOptionalNumber(a.post, b.post, -1) ||
    compareOptionalNumber(a.dev, b.dev, 1) ||
    compareLocal(a.local, b.local)
  );
}

export const pep440 = defineComparator<Pep440Version>({
  name: "pep440",
  version: 1,
  spec: "https://packaging.python.org/en/latest/specifications/version-specifiers/",
  parse: parsePep440,
  compare: comparePep440
});
