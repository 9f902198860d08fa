/**
 * The contract every ecosystem's version comparator fulfils. One module per ecosystem implements
 * {@link ComparatorSpec}; `index.ts` lists them, and {@link defineComparator} turns each into the
 * type-erased {@link Comparator} the matcher and the OSV range logic use.
 */

/** -1: a sorts before b; 0: the ecosystem treats them as the same version; 1: a sorts after b. */
export type Ordering = -1 | 0 | 1;

/** The outcome of parsing one version string: the parsed form, or why the ecosystem rejects it. */
export type Parsed<V> = { readonly ok: true; readonly value: V } | { readonly ok: false; readonly reason: string };

export interface ComparatorSpec<V> {
  /** Stable name (`dpkg`, `rpm`, `pep440`, …), used in cache keys and stored records. */
  readonly name: string;
  /**
   * Bumped whenever the ordering or the set of accepted strings changes, so that stored matches
   * made by an older comparator are found and redone (STYLE practice 4).
   */
  readonly version: number;
  /** Where the rules come from. */
  readonly spec: string;
  parse(input: string): Parsed<V>;
  compare(a: V, b: V): Ordering;
}

/** A version accepted by one comparator; only that comparator can order it. */
export interface Version {
  readonly input: string;
  readonly comparator: string;
}

export interface Comparator {
  readonly name: string;
  readonly version: number;
  readonly spec: string;
  parse(input: string): Parsed<Version>;
  /** Orders two versions parsed by this same comparator; a foreign version is a programming error and throws. */
  compare(a: Version, b: Version): Ordering;
}

/** Most parsed strings a comparator remembers before it starts over (memory stays bounded). */
const PARSE_MEMO_LIMIT = 200_000;

/**
 * Wraps a typed spec into a {@link Comparator}. The parsed form is a private field of a class only
 * this comparator has, so callers cannot build or inspect it, the comparator never casts what it
 * is handed, and a version from another comparator fails the brand check. (A WeakMap did the same
 * at two hash lookups per comparison, in the innermost loop of a rematch.)
 */
export function defineComparator<V>(spec: ComparatorSpec<V>): Comparator {
  class Handle implements Version {
    readonly comparator = spec.name;
    readonly #key: V;
    constructor(
      readonly input: string,
      key: V
    ) {
      this.#key = key;
    }
    static keyOf(v: Version): V {
      if (!(#key in v)) throw new TypeError(`version "${v.input}" was not parsed by the ${spec.name} comparator but by ${v.comparator}`);
      return (v as Handle).#key;
    }
  }
  // A rematch evaluates the same advisory bounds and installed versions over and over; parsing is
  // pure, so each string is parsed once (the handle and its key are immutable).
  const memo = new Map<string, Parsed<Version>>();
  return Object.freeze({
    name: spec.name,
    version: spec.version,
    spec: spec.spec,
    parse(input: string): Parsed<Version> {
      const known = memo.get(input);
      if (known !== undefined) return known;
      const parsed = spec.parse(input);
      // Not frozen (freezing costs as much as parsing): the types say readonly, and the key is private.
      const out: Parsed<Version> = parsed.ok ? { ok: true, value: new Handle(input, parsed.value) } : parsed;
      if (memo.size >= PARSE_MEMO_LIMIT) memo.clear();
      memo.set(input, out);
      return out;
    },
    compare(a: Version, b: Version): Ordering {
      return spec.compare(Handle.keyOf(a), Handle.keyOf(b));
    }
  });
}

export const ok = <V>(value: V): Parsed<V> => ({ ok: true, value });
export const invalid = <V>(reason: string): Parsed<V> => ({ ok: false, reason });

/** Sign of a number as an {@link Ordering}. */
export function sign(n: number | bigint): Ordering {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Orders two strings by UTF-16 code units (JavaScript's `<`), which for ASCII is C's strcmp. */
export function compareStrings(a: string, b: string): Ordering {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders two strings of ASCII digits as unbounded non-negative integers, without parsing them. */
export function compareDigits(a: string, b: string): Ordering {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return compareStrings(x, y);
}
