import { comparatorFor, parseWith, VersionError, type VersionResult } from "./index.js";
import { go } from "./go.js";
import { strictSemver } from "./semver.js";
import type { Comparator, Ordering, Version } from "./types.js";

/**
 * The one place that decides whether a version lies inside an OSV `affected[]` entry's
 * `ranges` and `versions`, over any comparator. It follows the evaluation pseudocode of the OSV
 * schema (https://ossf.github.io/osv-schema/#evaluation): a version is affected when it equals an
 * entry of `versions` or lies inside any range; inside a range means before some `limit` (there
 * is an implicit `*`), and, walking the events sorted by version, last switched on by an
 * `introduced` (`v >= introduced`) and not since switched off by a `fixed` (`v >= fixed`) or a
 * `last_affected` (`v > last_affected`). `introduced: "0"` sorts before every version and a
 * `limit` containing `*` after every version.
 *
 * `ECOSYSTEM` ranges use the ecosystem's comparator, `SEMVER` ranges SemVer 2.0.0 (Go's, which
 * accepts the `v` prefix, for the Go ecosystem). `GIT` ranges need the repository's history and
 * are not evaluated here: OSV requires their `versions` list, which is.
 *
 * Nothing here throws on data: a version or an event the comparator rejects makes that range
 * "not matched" and adds a warning, so one bad record never aborts a match.
 */
export interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

export interface OsvRange {
  readonly type: "ECOSYSTEM" | "SEMVER" | "GIT";
  readonly repo?: string;
  readonly events: readonly OsvEvent[];
}

/** The part of an OSV `affected[]` entry that says which versions are affected. */
export interface OsvAffectedVersions {
  readonly ranges?: readonly OsvRange[];
  readonly versions?: readonly string[];
}

export interface AffectedResult {
  readonly affected: boolean;
  /**
   * When affected through a range: the `fixed` version that closes the interval the version is
   * in, if the range has one. Undefined when there is no fix (or only `last_affected`).
   */
  readonly fixed: string | undefined;
  /** Versions or events that could not be read; each made its range (or list entry) not match. */
  readonly warnings: readonly VersionError[];
}

/** Below every version (`introduced: "0"`), above every version (a `*` limit), or a parsed version (the comparator's shared handle). */
const MIN = Symbol("min");
const MAX = Symbol("max");
type Bound = typeof MIN | typeof MAX | Version;

interface ParsedEvent {
  readonly type: "introduced" | "fixed" | "last_affected" | "limit";
  readonly raw: string;
  readonly bound: Bound;
}

function compareBound(cmp: Comparator, a: Bound, b: Bound): Ordering {
  if (typeof a === "symbol" || typeof b === "symbol") {
    const rank = (x: Bound): number => (x === MIN ? -1 : x === MAX ? 1 : 0);
    const d = rank(a) - rank(b);
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }
  return cmp.compare(a, b);
}

function eventOf(e: OsvEvent): { type: ParsedEvent["type"]; raw: string } | undefined {
  if (e.introduced !== undefined) return { type: "introduced", raw: e.introduced };
  if (e.fixed !== undefined) return { type: "fixed", raw: e.fixed };
  if (e.last_affected !== undefined) return { type: "last_affected", raw: e.last_affected };
  if (e.limit !== undefined) return { type: "limit", raw: e.limit };
  return undefined;
}

/** The comparator a range of this type uses in this ecosystem. */
export function rangeComparator(type: OsvRange["type"], ecosystem: string): Comparator | VersionError {
  if (type === "SEMVER") return ecosystem === "Go" || ecosystem.startsWith("Go:") ? go : strictSemver;
  if (type === "ECOSYSTEM") {
    const c = comparatorFor(ecosystem);
    return c.ok ? c.value : c.error;
  }
  return new VersionError("VERSION.UNSUPPORTED_ECOSYSTEM", ecosystem, "", "GIT ranges are not evaluated by version");
}

/** A range's answer; with no warnings, so that a one-range entry's answer is the entry's. */
interface RangeOutcome extends AffectedResult {
  readonly warnings: readonly never[];
}

/** A range's events parsed and ordered once: the same advisory is evaluated for many installed versions. */
type CompiledRange =
  | { readonly ok: true; readonly cmp: Comparator; readonly label: string; readonly limits: readonly ParsedEvent[]; readonly sorted: readonly ParsedEvent[] }
  | { readonly ok: false; readonly warning: VersionError | undefined; readonly cmp?: Comparator; readonly label?: string };

/**
 * An `affected[]` entry made ready to evaluate in one ecosystem: its events parsed and sorted once.
 * A rematch evaluates the same entry for many installed versions, so the matcher keeps these.
 */
export interface CompiledAffected {
  readonly ecosystem: string;
  readonly versions: readonly string[];
  readonly ranges: readonly CompiledRange[];
}

export function compileAffected(affected: OsvAffectedVersions, ecosystem: string): CompiledAffected {
  return compileFlat(affected.ranges?.map(flattenRange), affected.versions, ecosystem);
}

/**
 * A range as one flat list: its type, then each event's kind and version, in the record's order —
 * `["ECOSYSTEM", "introduced", "0", "fixed", "1.2-3"]`. The compiled DB keeps ranges this way: one
 * array per range reads back faster, and weighs less, than an object per event.
 */
export type FlatRange = readonly string[];

/**
 * An entry's ranges as the compiled DB keeps them: `0` for none; a string for the shape nearly
 * every distribution advisory has, one `ECOSYSTEM` range introduced at `"0"` and fixed at that
 * version; otherwise the flat ranges. A rematch reads one string for such an entry, not two arrays.
 */
export type StoredRanges = readonly FlatRange[] | string | 0;

export function storeRanges(ranges: readonly OsvRange[] | undefined): StoredRanges {
  if (ranges === undefined || ranges.length === 0) return 0;
  const flat = ranges.map(flattenRange);
  const only = flat.length === 1 ? flat[0] : undefined;
  if (only !== undefined && only.length === 5 && only[0] === "ECOSYSTEM" && only[1] === "introduced" && only[2] === "0" && only[3] === "fixed") return only[4] as string;
  return flat;
}

/** The flat ranges a stored form stands for (`undefined` for none). */
export function expandRanges(stored: StoredRanges): readonly FlatRange[] | undefined {
  if (stored === 0) return undefined;
  return typeof stored === "string" ? [["ECOSYSTEM", "introduced", "0", "fixed", stored]] : stored;
}

export function flattenRange(range: OsvRange): FlatRange {
  const flat: string[] = [range.type];
  for (const e of range.events) {
    const ev = eventOf(e);
    if (ev !== undefined) flat.push(ev.type, ev.raw);
  }
  return flat;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(["introduced", "fixed", "last_affected", "limit"]);

/** {@link compileAffected} from flat ranges (`flattenRange`). */
export function compileFlat(ranges: readonly FlatRange[] | undefined, versions: readonly string[] | undefined, ecosystem: string): CompiledAffected {
  // Kept for the DB's life by the matcher, one per entry: nothing allocated that an entry lacks.
  return { ecosystem, versions: versions ?? NONE, ranges: ranges === undefined ? NONE : ranges.map((r) => compileRange(r, ecosystem)) };
}

function compileRange(range: FlatRange, ecosystem: string): CompiledRange {
  const type = (range[0] ?? "") as OsvRange["type"];
  const cmp = rangeComparator(type, ecosystem);
  if (cmp instanceof VersionError) return { ok: false, warning: type === "GIT" ? undefined : cmp };
  const label = type === "SEMVER" ? `${ecosystem} (SEMVER range)` : ecosystem;
  const sorted: ParsedEvent[] = [];
  let limits: ParsedEvent[] | undefined;
  let inOrder = true;
  for (let i = 1; i + 1 < range.length; i += 2) {
    const kind = range[i] as string;
    const raw = range[i + 1] as string;
    if (!EVENT_TYPES.has(kind)) continue;
    const evType = kind as ParsedEvent["type"];
    let bound: Bound;
    if (evType === "introduced" && raw === "0") bound = MIN;
    else if (evType === "limit" && raw.includes("*")) bound = MAX;
    else {
      const parsed = parseWith(cmp, raw, label);
      // The installed version's own error comes first when both fail, as before compiling.
      if (!parsed.ok) return { ok: false, warning: parsed.error, cmp, label };
      bound = parsed.value;
    }
    const event: ParsedEvent = { type: evType, raw, bound };
    if (evType === "limit") (limits ??= []).push(event);
    else {
      const last = sorted[sorted.length - 1];
      if (last !== undefined && inOrder && compareBound(cmp, last.bound, bound) > 0) inOrder = false;
      sorted.push(event);
    }
  }
  // Records list events in order almost always; sorting is for the rest. Array.prototype.sort is
  // stable: events at the same version keep the record's order.
  if (!inOrder) sorted.sort((a, b) => compareBound(cmp, a.bound, b.bound));
  return { ok: true, cmp, label, limits: limits ?? NONE, sorted };
}

const NONE: readonly never[] = Object.freeze([]);

const AFFECTED_NO_FIX: RangeOutcome = Object.freeze({ affected: true, fixed: undefined, warnings: NONE });

const NOT_AFFECTED: RangeOutcome = Object.freeze({ affected: false, fixed: undefined, warnings: NONE });

type RangeComparators = Map<string, { cmp: Comparator; label: string } | undefined>;

/**
 * A package's `affected[]` entries compiled together, column by column: a one-interval entry (the
 * shape of nearly all) is a slot in a few arrays rather than objects of its own, any other is
 * compiled whole. A rematch keeps one of these per package for the DB's life, so what it holds
 * per entry decides how much the garbage collector copies; answers are made once per entry.
 */
export class CompiledEntries {
  readonly length: number;
  // Columns of exactly `length` slots (pushing leaves spare capacity, kept for the DB's life).
  private readonly cmps: (Comparator | undefined)[];
  private readonly labels: (string | undefined)[];
  private readonly from: (Bound | undefined)[];
  private readonly to: (Bound | undefined)[];
  private readonly toIsFix: (boolean | undefined)[];
  private readonly fixes: (string | undefined)[];
  private readonly whole: (CompiledAffected | undefined)[];
  private readonly inside: (AffectedResult | undefined)[];
  private lastVersion: string | undefined;
  private lastCmp: Comparator | undefined;
  private lastLabel: string | undefined;
  private lastParsed: VersionResult<Version> | undefined;

  /** Entry `i` is `ranges[i]` and `versions[i]`. */
  constructor(ranges: readonly StoredRanges[], versions: readonly (readonly string[] | undefined)[], ecosystem: string) {
    const n = ranges.length;
    this.length = n;
    this.cmps = new Array<Comparator | undefined>(n);
    this.labels = new Array<string | undefined>(n);
    this.from = new Array<Bound | undefined>(n);
    this.to = new Array<Bound | undefined>(n);
    this.toIsFix = new Array<boolean | undefined>(n);
    this.fixes = new Array<string | undefined>(n);
    this.whole = new Array<CompiledAffected | undefined>(n);
    this.inside = new Array<AffectedResult | undefined>(n);
    // Per range type, the comparator and label of this package's ecosystem (all its entries share it).
    const comparators: RangeComparators = new Map();
    for (let i = 0; i < n; i++) {
      const stored = ranges[i] as StoredRanges;
      const entryVersions = versions[i];
      const noList = entryVersions === undefined || entryVersions.length === 0;
      if (typeof stored === "string") {
        if (noList && this.addSimple(i, "ECOSYSTEM", "0", "fixed", stored, ecosystem, comparators)) continue;
      } else if (noList && stored !== 0 && stored.length === 1) {
        const only = stored[0] as FlatRange;
        if ((only.length === 3 || only.length === 5) && only[1] === "introduced" && this.addSimple(i, only[0] as string, only[2] as string, only[3], only[4], ecosystem, comparators)) continue;
      }
      this.whole[i] = compileFlat(expandRanges(stored), entryVersions, ecosystem);
    }
  }

  /**
   * Adds a range of the usual shape, `[type, "introduced", x]` or `[type, "introduced", x,
   * "fixed" | "last_affected", y]` with x not above y, straight into the columns (no objects on the
   * way); false for anything else, which `compileRange` then handles with its warnings.
   */
  private addSimple(i: number, type: string, fromRaw: string, end: string | undefined, toRaw: string | undefined, ecosystem: string, comparators: RangeComparators): boolean {
    if (end !== undefined && end !== "fixed" && end !== "last_affected") return false;
    let c = comparators.get(type);
    if (!comparators.has(type)) {
      const cmp = rangeComparator(type as OsvRange["type"], ecosystem);
      c = cmp instanceof VersionError ? undefined : { cmp, label: type === "SEMVER" ? `${ecosystem} (SEMVER range)` : ecosystem };
      comparators.set(type, c);
    }
    if (c === undefined) return false;
    const version = (raw: string): Version | undefined => {
      const parsed = parseWith(c.cmp, raw, c.label);
      return parsed.ok ? parsed.value : undefined;
    };
    // Only `introduced: "0"` means "before every version"; a `fixed: "0"` is the version 0.
    const from: Bound | undefined = fromRaw === "0" ? MIN : version(fromRaw);
    if (from === undefined) return false;
    const to = toRaw === undefined ? undefined : version(toRaw);
    if (toRaw !== undefined && (to === undefined || compareBound(c.cmp, from, to) > 0)) return false;
    this.cmps[i] = c.cmp;
    this.labels[i] = c.label;
    this.from[i] = from;
    this.to[i] = to;
    this.toIsFix[i] = end === "fixed";
    this.fixes[i] = end === "fixed" && to !== undefined && typeof to !== "symbol" ? to.input : undefined;
    return true;
  }

  /** {@link evaluateAffected} for entry `i`. */
  evaluate(version: string, i: number): AffectedResult {
    const cmp = this.cmps[i];
    if (cmp === undefined) {
      const whole = this.whole[i];
      return whole === undefined ? UNAFFECTED : evaluateAffected(version, whole);
    }
    // An answer asks every entry about one version: parsed once (the same string object).
    const label = this.labels[i] as string;
    let v = this.lastParsed;
    if (version !== this.lastVersion || cmp !== this.lastCmp || label !== this.lastLabel || v === undefined) {
      v = parseWith(cmp, version, label);
      this.lastVersion = version;
      this.lastCmp = cmp;
      this.lastLabel = label;
      this.lastParsed = v;
    }
    if (!v.ok) return { affected: false, fixed: undefined, warnings: [v.error] };
    // The general walk, for [introduced, (fixed | last_affected)?] in order.
    if (orderAgainst(cmp, v.value, this.from[i] as Bound) < 0) return NOT_AFFECTED;
    const to = this.to[i];
    if (to === undefined) return AFFECTED_NO_FIX;
    const order = orderAgainst(cmp, v.value, to);
    if (!this.toIsFix[i]) return order <= 0 ? AFFECTED_NO_FIX : NOT_AFFECTED;
    if (order >= 0) return NOT_AFFECTED;
    let answer = this.inside[i];
    if (answer === undefined) {
      answer = { affected: true, fixed: this.fixes[i], warnings: NONE };
      this.inside[i] = answer;
    }
    return answer;
  }
}

/** Not matched because a version could not be read. */
interface Unreadable {
  readonly affected: false;
  readonly fixed: undefined;
  readonly warning: VersionError;
}

function unreadable(warning: VersionError): Unreadable {
  return { affected: false, fixed: undefined, warning };
}

function evaluateRange(version: string, c: CompiledRange): RangeOutcome | Unreadable {
  if (!c.ok) {
    if (c.cmp !== undefined && c.label !== undefined) {
      const v = parseWith(c.cmp, version, c.label);
      return unreadable(v.ok || c.warning === undefined ? (c.warning as VersionError) : v.error);
    }
    return c.warning === undefined ? NOT_AFFECTED : unreadable(c.warning);
  }
  const cmp = c.cmp;
  const v = parseWith(cmp, version, c.label);
  if (!v.ok) return unreadable(v.error);
  const here = v.value;
  const { limits, sorted } = c;
  if (limits.length > 0 && !limits.some((l) => orderAgainst(cmp, here, l.bound) < 0)) return NOT_AFFECTED;
  // Walking the events in order, the first one above the version ends the walk: no event above
  // it changes the outcome (each needs `v >= event`, or `v > event` for last_affected), and the
  // first `fixed` from there on is the fix of the interval the version is in.
  let affected = false;
  let above = sorted.length;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as ParsedEvent;
    const order = orderAgainst(cmp, here, e.bound);
    if (order < 0) {
      above = i;
      break;
    }
    if (e.type === "introduced") affected = true;
    else if (e.type === "fixed") affected = false;
    else if (e.type === "last_affected" && order > 0) affected = false;
  }
  if (!affected) return NOT_AFFECTED;
  for (let i = above; i < sorted.length; i++) {
    const e = sorted[i] as ParsedEvent;
    if (e.type === "fixed") return { affected: true, fixed: e.raw, warnings: NONE };
  }
  return AFFECTED_NO_FIX;
}


/** A version against an event's bound: `compareBound` without wrapping the version in a bound first. */
function orderAgainst(cmp: Comparator, v: Version, bound: Bound): Ordering {
  return typeof bound !== "symbol" ? cmp.compare(v, bound) : bound === MIN ? 1 : -1;
}

function inVersionsList(version: string, versions: readonly string[], ecosystem: string): boolean {
  if (versions.includes(version)) return true;
  // The list holds the ecosystem's own spellings; equal versions spelled differently
  // (PEP 440's 1.0 and 1.0.0) match too when both parse.
  const c = comparatorFor(ecosystem);
  if (!c.ok) return false;
  const v = c.value.parse(version);
  if (!v.ok) return false;
  for (const candidate of versions) {
    const p = c.value.parse(candidate);
    if (p.ok && c.value.compare(v.value, p.value) === 0) return true;
  }
  return false;
}

const UNAFFECTED: AffectedResult = Object.freeze({ affected: false, fixed: undefined, warnings: Object.freeze([]) });

/**
 * Whether `version` (as installed, in `ecosystem`'s syntax; `ecosystem` is the OSV string,
 * suffix and all) is affected according to one OSV `affected[]` entry. Empty ranges and versions
 * affect nothing.
 */
export function isAffected(version: string, affected: OsvAffectedVersions, ecosystem: string): AffectedResult {
  return evaluateAffected(version, compileAffected(affected, ecosystem));
}

/** {@link isAffected} over an entry compiled once with {@link compileAffected}. */
export function evaluateAffected(version: string, entry: CompiledAffected): AffectedResult {
  // Most entries are one range and no list: the range's answer, made once, is the entry's.
  const only = entry.versions.length === 0 && entry.ranges.length === 1 ? entry.ranges[0] : undefined;
  if (only !== undefined) {
    const r = evaluateRange(version, only);
    return "warning" in r ? { affected: false, fixed: undefined, warnings: [r.warning] } : r;
  }
  let warnings: VersionError[] | undefined;
  const inList = entry.versions.length > 0 && inVersionsList(version, entry.versions, entry.ecosystem);
  let fixed: string | undefined;
  let inRange = false;
  for (const range of entry.ranges) {
    const r = evaluateRange(version, range);
    if ("warning" in r) (warnings ??= []).push(r.warning);
    else if (r.affected) {
      inRange = true;
      fixed ??= r.fixed;
    }
  }
  if (!inList && !inRange && warnings === undefined) return UNAFFECTED;
  return { affected: inList || inRange, fixed: inRange ? fixed : undefined, warnings: warnings ?? [] };
}
