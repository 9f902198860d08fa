/**
 * The matcher: SBOM facts × the compiled DB → findings and coverage, a pure function of the two
 * (Clair's `Libvuln.Scan`), cheap enough to redo for every stored image whenever the DB changes.
 *
 * For each installed package its family (`families/`) says which (ecosystem, name, version) to
 * look up; every `affected[]` entry found is evaluated with OSV's range semantics
 * (`versions/ranges.ts`, https://ossf.github.io/osv-schema/#evaluation). Records that name each
 * other in `aliases` are one vulnerability, reported once per installed package with all its ids;
 * `upstream` ids are listed for display and exemptions; `related` merges nothing.
 *
 * What could not be assessed is a coverage gap with a count, never a silent zero: a package with
 * no ecosystem, an ecosystem scanhook cannot order or the DB has no data for, a version that does
 * not parse, a Red Hat image without CPEs, an advisory whose ranges could not be read.
 */
import type { CoverageGap, Finding, Severity } from "../../domain/image-record.js";
import type { Matcher, MatchOutcome, SbomFacts } from "../../domain/match.js";
import type { InstalledPackage } from "../../domain/package.js";
import { recordHashOf } from "../db/format.js";
import type { PackageEntries, StoredVuln } from "../db/reader.js";
import { normalizeName } from "../names.js";
import type { OsvAffected } from "../osv.js";
import { severityOf } from "../severity.js";
import { baseEcosystem, compareVersions, comparatorFor, parseVersion } from "../versions/index.js";
import { CompiledEntries } from "../versions/ranges.js";
import { entryHasNoSeverity, preferredId, type FactColumns } from "../record-facts.js";
import { familyFor, FAMILY_VERSIONS, type Family, type FamilyContext, type MatchQuery } from "./families/index.js";

/** What the matcher reads from a DB; `VulnDb` implements it. */
export interface VulnData {
  readonly version: string;
  ecosystemRecords(ecosystem: string): number;
  affected(ecosystem: string, name: string): PackageEntries;
  /** Names a package's entries by content (equal hashes, equal entries); undefined when it has none. */
  packageHash(ecosystem: string, name: string): string | undefined;
  vuln(id: string): StoredVuln | undefined;
  /** Reads these records ahead, together (`vuln` then answers from memory); optional. */
  prefetch?(ids: readonly string[]): void;
  cpesOfRepository(repository: string): readonly string[];
}

/** A finding with what the compact index leaves out: for the report blob, the CLI, SARIF. */
export interface DetailedFinding extends Finding {
  readonly summary?: string;
  readonly references: readonly string[];
  /** Every record id that matched (the reported id and its aliases that are in the DB). */
  readonly records: readonly string[];
  readonly severitySource: string;
  readonly analyzer: string;
}

export interface DetailedOutcome extends MatchOutcome {
  readonly detailed: readonly DetailedFinding[];
}

export interface DetailedMatcher extends Matcher {
  matchDetailed(facts: SbomFacts, now: Date): DetailedOutcome;
}

/** Version of the matching rules, stored with results so stale matches are found (STYLE practice 4). */
export const MATCHER_VERSION = `matcher@1 ${FAMILY_VERSIONS.join(" ")}`;

interface Hit {
  readonly vulnId: string;
  /** Of the record and the records it names (the DB's): equal hashes, equal groups. */
  readonly recordHash: string;
  readonly ecosystem: string;
  readonly via: MatchQuery["via"];
  readonly queryName: string;
  readonly entries: OsvAffected[];
  readonly fixes: string[];
  /** The package's record facts (the DB's, `record-facts.ts`) and this record's entry in them; undefined when the data has none. */
  readonly facts: FactColumns | undefined;
  readonly factIndex: number;
}

interface EcosystemInfo {
  readonly ecosystem: string;
  readonly base: string;
  /** Undefined when scanhook cannot order this ecosystem's versions. */
  readonly family: Family | undefined;
  readonly hasData: boolean;
}

/** A package's entries as the matcher keeps them for the DB's life: a few arrays, not objects per entry. */
interface CompiledPackage {
  /** The DB's content hash of the entries this was compiled from. */
  readonly hash: string;
  readonly vulnIds: readonly string[];
  readonly recordHashes: string;
  /** Each entry's fields besides its ranges and versions: what severity and `accept` read. */
  readonly others: readonly OsvAffected[];
  readonly facts: FactColumns | undefined;
  readonly entries: CompiledEntries;
}

type GroupFinding = Omit<DetailedFinding, "packageName" | "packageVersion" | "purl" | "layer" | "analyzer">;

interface Evaluated {
  /** False when the installed version does not parse in the query's ecosystem (nothing else is then filled). */
  readonly parsed: boolean;
  /**
   * Let go once grouped for a one-query package (`groups` then says it all), so that a rematch
   * does not keep an object per hit for the DB's life; undefined from then on.
   */
  hits: Hit[] | undefined;
  readonly unreadable: string[];
  /** Filled on first use; the same hits always make the same groups. */
  groups: Group[] | undefined;
}

/**
 * A finding's package-independent part, stamped per package. One object is
 * shared by every installed version it holds for (a rematch keeps these, so they are few and
 * small); the report's extras (summary, references) are read when a detailed report asks.
 */
type CompactPart = Omit<Finding, "packageName" | "packageVersion" | "purl" | "layer">;

interface Group extends CompactPart {
  /** The records that matched, the reported one first (one record's id alone, not in a list). */
  readonly recordIds: readonly string[] | string;
  detail: GroupFinding | undefined;
}

/** The answer for a version no entry affects and every range could be read for. */
const NOTHING: Evaluated = Object.freeze({ parsed: true, hits: [], unreadable: [], groups: [] }) as Evaluated;

const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];

class GapCounter {
  private readonly gaps = new Map<string, { kind: string; subject: string; count: number; examples: string[]; describe: (n: number, ex: string[]) => string }>();
  add(kind: string, subject: string, example: string, describe: (n: number, examples: string[]) => string): void {
    const key = `${kind}\0${subject}`;
    let g = this.gaps.get(key);
    if (g === undefined) {
      g = { kind, subject, count: 0, examples: [], describe };
      this.gaps.set(key, g);
    }
    g.count++;
    if (g.examples.length < 3 && !g.examples.includes(example)) g.examples.push(example);
  }
  list(): CoverageGap[] {
    return [...this.gaps.values()].map((g) => ({ kind: g.kind, detail: g.describe(g.count, g.examples), count: g.count }));
  }
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const unreadableText = (n: number, ex: string[]): string => `${plural(n, "advisory range")} could not be read and did not match, e.g. ${ex.join(", ")}`;

function byRankId(a: Group, b: Group): number {
  if (a.severity !== b.severity) return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const SEVERITY_RANK = Object.fromEntries(SEVERITY_ORDER.map((s, i) => [s, i])) as Readonly<Record<Severity, number>>;

/** Findings' order within one severity: vulnerability id, then package name. */
export function byIdAndPackage(a: Finding, b: Finding): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.packageName < b.packageName ? -1 : a.packageName > b.packageName ? 1 : 0;
}

/**
 * Findings in their order (severity, vulnerability id, package name), a severity at a time: each
 * is put in its severity's list as it is made, and only ids and names are compared, an SBOM's
 * hundreds of findings being sorted on every rematch.
 */
class FindingsBySeverity<T extends Finding> {
  private readonly lists: T[][] = SEVERITY_ORDER.map(() => []);

  add(f: T): void {
    (this.lists[SEVERITY_RANK[f.severity]] as T[]).push(f);
  }

  sorted(): T[] {
    const out: T[] = [];
    for (const list of this.lists) {
      const ordered = list.length > 1 ? mergeRuns(list) : list;
      for (let i = 0; i < ordered.length; i++) out.push(ordered[i] as T);
    }
    return out;
  }
}

/**
 * `xs` in {@link byIdAndPackage} order, stably: its ascending runs found, then merged pairwise. A
 * severity's findings arrive package by package, each package's already in id order (an answer
 * lists its groups sorted), so there are few runs, and merging them costs far fewer comparisons
 * than sorting afresh, on every rematch of every SBOM.
 */
export function mergeRuns<T extends Finding>(xs: readonly T[]): readonly T[] {
  const n = xs.length;
  let bounds = [0];
  for (let i = 1; i < n; i++) if (byIdAndPackage(xs[i - 1] as T, xs[i] as T) > 0) bounds.push(i);
  if (bounds.length === 1) return xs;
  bounds.push(n);
  let from: readonly T[] = xs;
  let to = new Array<T>(n);
  while (bounds.length > 2) {
    const next = [0];
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const lo = bounds[r] as number;
      const mid = bounds[r + 1] as number;
      const hi = r + 2 < bounds.length ? (bounds[r + 2] as number) : mid;
      let i = lo;
      let j = mid;
      let k = lo;
      // Ties take the left run's first: stable.
      while (i < mid && j < hi) to[k++] = byIdAndPackage(from[j] as T, from[i] as T) < 0 ? (from[j++] as T) : (from[i++] as T);
      while (i < mid) to[k++] = from[i++] as T;
      while (j < hi) to[k++] = from[j++] as T;
      next.push(hi);
    }
    bounds = next;
    // The next pass writes into the array this one read (never into `xs`).
    const done = to;
    to = from === xs ? new Array<T>(n) : (from as T[]);
    from = done;
  }
  return from;
}

/** Lowest of the fixes by the ecosystem's ordering; ties and unorderable ones keep the first seen. */
function lowestFix(fixes: readonly string[], ecosystem: string): string | undefined {
  let best: string | undefined;
  for (const f of fixes) {
    if (best === undefined) best = f;
    else {
      const c = compareVersions(f, best, ecosystem);
      if (c.ok && c.value < 0) best = f;
    }
  }
  return best;
}

/** A group of one record (entry `i`'s), from the facts the DB keeps for it. */
function groupFrom(f: FactColumns, i: number, vulnId: string, via: MatchQuery["via"], queryName: string, ecosystem: string, fixed: string | undefined): Group {
  const g: Group = {
    id: f.ids[i] as string,
    aliases: f.aliases[i] as string[],
    upstreamIds: f.upstream[i] as string[],
    severity: f.severity[i] as Severity,
    fixable: fixed !== undefined,
    ecosystem,
    severitySource: f.source[i] as string,
    recordIds: vulnId,
    detail: undefined
  };
  const score = f.score[i];
  if (score !== null && score !== undefined) g.score = score;
  if (via === "source") g.sourcePackage = queryName;
  if (fixed !== undefined) g.fixedVersion = fixed;
  return g;
}

/** Takes `fixed` as the group's fix when it is the lowest so far (as {@link lowestFix} picks). */
function setFix(g: Group, fixed: string): void {
  if (g.fixedVersion !== undefined) {
    const c = compareVersions(fixed, g.fixedVersion, g.ecosystem);
    if (!c.ok || c.value >= 0) return;
  }
  g.fixedVersion = fixed;
  g.fixable = true;
}

/** True when no id (reported or alias) is in two groups: records that name each other are one vulnerability. */
function disjoint(groups: readonly Group[]): boolean {
  let ids = 0;
  const seen = new Set<string>();
  for (const g of groups) {
    seen.add(g.id);
    for (const a of g.aliases) seen.add(a);
    ids += 1 + g.aliases.length;
  }
  return seen.size === ids;
}

/**
 * Answers by installed version. A package is asked about in a handful of versions across a
 * registry's images, and those are found by comparing strings: hashing a string freshly parsed
 * from an SBOM (for a Map) costs more than the whole rest of a remembered answer.
 */
class Answers {
  private static readonly SCAN_LIMIT = 8;
  private readonly versions: string[] = [];
  private readonly values: Evaluated[] = [];
  private map: Map<string, Evaluated> | undefined;

  get(version: string): Evaluated | undefined {
    if (this.map !== undefined) return this.map.get(version);
    const versions = this.versions;
    for (let i = 0; i < versions.length; i++) if (versions[i] === version) return this.values[i];
    return undefined;
  }

  set(version: string, value: Evaluated): void {
    if (this.map === undefined && this.versions.length < Answers.SCAN_LIMIT) {
      this.versions.push(version);
      this.values.push(value);
      return;
    }
    if (this.map === undefined) {
      this.map = new Map(this.versions.map((v, i) => [v, this.values[i] as Evaluated]));
      this.versions.length = 0;
      this.values.length = 0;
    }
    this.map.set(version, value);
  }
}

/**
 * One package of one ecosystem as the DB has it, compiled once, with the answers given so far. The
 * answer last given for each way of asking (by the package's own name, by its source name) is
 * held in the entry itself: most images hold a package's most common version, and a warm rematch
 * is mostly these lookups, each a chain of memory reads.
 */
class PackageEntry {
  /** Groups by the records and fixes they were made of: the same for many installed versions. */
  readonly groups = new Map<string, Group>();
  private sourceVersion: string | undefined;
  private sourceAnswer: Evaluated | undefined;
  private packageVersion: string | undefined;
  private packageAnswer: Evaluated | undefined;
  /** Every answer given, the last one asked for also in the fields above. */
  private sources: Answers | undefined;
  private packages: Answers | undefined;
  /** One-record groups made from record facts, by entry, for each way of asking. */
  private aloneBySource: (Group | undefined)[] | undefined;
  private aloneByPackage: (Group | undefined)[] | undefined;

  constructor(
    readonly compiled: CompiledPackage,
    /** The groups the matcher of the DB version before made for this package, still good for every record it did not change. */
    readonly earlier: ReadonlyMap<string, Group> | undefined
  ) {}

  aloneGroups(via: MatchQuery["via"], length: number): (Group | undefined)[] {
    if (via === "source") return (this.aloneBySource ??= new Array<Group | undefined>(length));
    return (this.aloneByPackage ??= new Array<Group | undefined>(length));
  }

  answer(via: MatchQuery["via"], version: string): Evaluated | undefined {
    if (via === "source") {
      if (this.sourceVersion === version) return this.sourceAnswer;
      const found = this.sources?.get(version);
      if (found !== undefined) {
        this.sourceVersion = version;
        this.sourceAnswer = found;
      }
      return found;
    }
    if (this.packageVersion === version) return this.packageAnswer;
    const found = this.packages?.get(version);
    if (found !== undefined) {
      this.packageVersion = version;
      this.packageAnswer = found;
    }
    return found;
  }

  remember(via: MatchQuery["via"], version: string, value: Evaluated): void {
    if (via === "source") {
      (this.sources ??= new Answers()).set(version, value);
      this.sourceVersion = version;
      this.sourceAnswer = value;
    } else {
      (this.packages ??= new Answers()).set(version, value);
      this.packageVersion = version;
      this.packageAnswer = value;
    }
  }
}

/** Packages and answers remembered in all (memory stays bounded: past this, the matcher starts over). */
const REMEMBER_LIMIT = 500_000;

/**
 * Each matcher's compiled packages, for the matcher of the next DB version to take over, and how to
 * make it let go of the matcher before it: otherwise every matcher would keep the one before, and
 * that one the one before it, each DB version's packages held for the process's life.
 */
const takeOver = new WeakMap<DetailedMatcher, { readonly packageOf: (ecosystem: string, name: string) => PackageEntry | undefined; readonly forgetPrevious: () => void }>();

export interface MatcherOptions {
  /**
   * The matcher of the DB version before. Every package the update left alone (the DB's content
   * hash covers its entries and every record its findings read) keeps what that matcher worked
   * out: compiled entries, answers, finding groups. An hourly update changes a few hundred
   * records, so matching stored SBOMs again after it mostly asks about unchanged packages.
   */
  readonly previous?: DetailedMatcher;
}

export function createMatcher(db: VulnData, options: MatcherOptions = {}): DetailedMatcher {
  const handOver = options.previous === undefined ? undefined : takeOver.get(options.previous);
  // The matcher before now serves only until this one replaces it: what it has not carried over
  // from its own predecessor by now, it reads from its DB.
  handOver?.forgetPrevious();
  let previous = handOver?.packageOf;
  // ecosystem → query name → the package's compiled entries and answers. Nested maps, not one map
  // keyed by a joined string: building and hashing that key for every installed package was the
  // largest single cost of a warm rematch.
  let packages = new Map<string, Map<string, PackageEntry>>();
  // (ecosystem, normalised name) → compiled rows: names spelled differently share one compilation.
  let compiledRows = new Map<string, CompiledPackage>();
  let remembered = 0;

  // The ecosystem of the package before, compared rather than hashed (an SBOM has one or two).
  let lastEcosystem: string | undefined;
  let lastByName: Map<string, PackageEntry> | undefined;
  const packageFor = (ecosystem: string, name: string): PackageEntry => {
    let byName = ecosystem === lastEcosystem ? lastByName : packages.get(ecosystem);
    if (byName === undefined) {
      byName = new Map();
      packages.set(ecosystem, byName);
    }
    lastEcosystem = ecosystem;
    lastByName = byName;
    let entry = byName.get(name);
    if (entry === undefined) {
      const normalized = normalizeName(ecosystem, name);
      const key = `${ecosystem}\0${normalized}`;
      let compiled = compiledRows.get(key);
      let before: PackageEntry | undefined;
      if (compiled === undefined) {
        const hash = db.packageHash(ecosystem, normalized) ?? "";
        before = previous?.(ecosystem, name);
        if (before !== undefined && before.compiled.hash === hash) {
          // Nothing a finding on this package reads has changed: its answers and groups hold.
          compiledRows.set(key, before.compiled);
          grow();
          byName.set(name, before);
          return before;
        }
        const found = db.affected(ecosystem, normalized);
        compiled = { hash, vulnIds: found.vulnIds, recordHashes: found.recordHashes, others: found.others, facts: found.facts, entries: new CompiledEntries(found.ranges, found.versions, ecosystem) };
        compiledRows.set(key, compiled);
      }
      entry = new PackageEntry(compiled, before?.groups);
      grow();
      byName.set(name, entry);
    }
    return entry;
  };

  /** Counts one more remembered thing; past the limit, forgets everything (what is in use stays valid). */
  const grow = (): void => {
    if (++remembered > REMEMBER_LIMIT) {
      packages = new Map();
      compiledRows = new Map();
      lastEcosystem = undefined;
      lastByName = undefined;
      remembered = 0;
    }
  };
  const remember = (pkg: PackageEntry, q: MatchQuery, value: Evaluated): void => {
    grow();
    pkg.remember(q.via, q.version, value);
  };

  // Rematching thousands of stored images asks the same few thousand questions again and again:
  // the answer, the version check included, is looked up before anything is parsed. A query that
  // narrows entries (`accept`), or asks `fresh`, is answered afresh each time.
  const evaluate = (q: MatchQuery, fresh = false): Evaluated => {
    const pkg = packageFor(q.ecosystem, q.name);
    const remembered = !fresh && q.accept === undefined;
    const cached = remembered ? pkg.answer(q.via, q.version) : undefined;
    if (cached !== undefined) return cached;
    if (!parseVersion(q.version, q.ecosystem).ok) {
      const out: Evaluated = { parsed: false, hits: [], unreadable: [], groups: [] };
      if (remembered) remember(pkg, q, out);
      return out;
    }
    const out = remembered ? (fromFacts(pkg, q) ?? collectHits(pkg, q)) : collectHits(pkg, q);
    if (remembered) remember(pkg, q, out);
    return out;
  };

  /**
   * The answer with its groups made straight from the record facts the DB keeps (no hit objects,
   * no record read), or undefined when some hit needs its records (`standsAlone`). Entries are in
   * record-id order, so a record's entries are adjacent: a run of them is one hit.
   */
  const fromFacts = (pkg: PackageEntry, q: MatchQuery): Evaluated | undefined => {
    const { vulnIds, others, facts, entries } = pkg.compiled;
    if (facts === undefined) return undefined;
    // A record's group is the same for every installed version its entry gives the same fix: made once per package.
    const made = pkg.aloneGroups(q.via, entries.length);
    let groups: Group[] | undefined;
    let unreadable: string[] | undefined;
    let last: Group | undefined;
    let lastAt = -1;
    let aliased = false;
    for (let i = 0; i < entries.length; i++) {
      const result = entries.evaluate(q.version, i);
      const vulnId = vulnIds[i] as string;
      if (result.warnings.length > 0 && !result.affected) (unreadable ??= []).push(vulnId);
      if (!result.affected) continue;
      if (!entryHasNoSeverity(others[i] as OsvAffected)) return undefined;
      if (last !== undefined && vulnId === vulnIds[lastAt]) {
        // Another entry of the same record: its fix counts too (the lowest stands), on a copy of a shared group.
        if (result.fixed !== undefined) {
          if (made[lastAt] === last) {
            last = { ...last };
            (groups as Group[])[(groups as Group[]).length - 1] = last;
          }
          setFix(last, result.fixed);
        }
        continue;
      }
      // Out of record-id order (not the DB's), a record's entries could be apart: the hits decide.
      if (last !== undefined && vulnId < (vulnIds[lastAt] as string)) return undefined;
      if ((facts.aliases[i] as string[]).length > 0) aliased = true;
      let g = made[i];
      if (g === undefined || g.fixedVersion !== result.fixed) {
        g = groupFrom(facts, i, vulnId, q.via, q.name, q.ecosystem, result.fixed);
        made[i] ??= g;
      }
      last = g;
      lastAt = i;
      (groups ??= []).push(g);
    }
    if (groups === undefined) return unreadable === undefined ? NOTHING : { parsed: true, hits: [], unreadable, groups: [] };
    if (aliased && !disjoint(groups)) return undefined;
    return { parsed: true, hits: undefined, unreadable: unreadable ?? [], groups: groups.sort(byRankId) };
  };

  /** The answer as hits, grouped later from their records (or their facts, `standsAlone`). */
  const collectHits = (pkg: PackageEntry, q: MatchQuery): Evaluated => {
    // Allocated only when needed: most answers for an image's newest packages hold no hit, and
    // every answer is kept for the DB's life.
    let byVuln: Map<string, Hit> | undefined;
    let unreadable: string[] | undefined;
    const { vulnIds, recordHashes, others, facts, entries } = pkg.compiled;
    for (let i = 0; i < entries.length; i++) {
      const other = others[i] as OsvAffected;
      if (q.accept !== undefined && !q.accept(other)) continue;
      const result = entries.evaluate(q.version, i);
      const vulnId = vulnIds[i] as string;
      // The installed version parsed (checked above), so a warning is about the record's events.
      if (result.warnings.length > 0 && !result.affected) (unreadable ??= []).push(vulnId);
      if (!result.affected) continue;
      byVuln ??= new Map();
      let hit = byVuln.get(vulnId);
      if (hit === undefined) {
        hit = { vulnId, recordHash: recordHashOf(recordHashes, i), ecosystem: q.ecosystem, via: q.via, queryName: q.name, entries: [], fixes: [], facts, factIndex: i };
        byVuln.set(vulnId, hit);
      }
      hit.entries.push(other);
      if (result.fixed !== undefined) hit.fixes.push(result.fixed);
    }
    return byVuln === undefined && unreadable === undefined ? NOTHING : { parsed: true, hits: byVuln === undefined ? [] : [...byVuln.values()], unreadable: unreadable ?? [], groups: undefined };
  };

  // Per ecosystem string: its base name and family, or no family when its versions cannot be ordered.
  // Whether the DB has records for each ecosystem string too. The last one asked is compared, not hashed.
  const ecosystems = new Map<string, EcosystemInfo>();
  let lastInfo: EcosystemInfo | undefined;
  const ecosystemInfo = (ecosystem: string): EcosystemInfo => {
    if (lastInfo !== undefined && lastInfo.ecosystem === ecosystem) return lastInfo;
    let info = ecosystems.get(ecosystem);
    if (info === undefined) {
      const base = baseEcosystem(ecosystem);
      info = { ecosystem, base, family: comparatorFor(ecosystem).ok ? familyFor(base) : undefined, hasData: db.ecosystemRecords(ecosystem) > 0 };
      ecosystems.set(ecosystem, info);
    }
    lastInfo = info;
    return info;
  };
  const hasData = (ecosystem: string): boolean => ecosystemInfo(ecosystem).hasData;

  /** The package-independent part of each finding: computed once per set of hits, stamped per package. */
  const groupsFor = (hits: readonly Hit[], cache: Map<string, Group> | undefined, earlier?: ReadonlyMap<string, Group>): Group[] => {
    const alone = standsAlone(hits);
    if (alone !== undefined) return alone;
    // Hits already grouped alone (here, or by the matcher before for a record that has not
    // changed) keep their groups without reading their records, as long as no other group shares
    // an id with them (the union would then have merged them); the rest are grouped from records.
    if (cache !== undefined) {
      const known: [string, Group][] = [];
      const unknown: Hit[] = [];
      const ids = new Set<string>();
      const overlaps = (g: Group): boolean => ids.has(g.id) || g.aliases.some((a) => ids.has(a));
      for (const h of hits) {
        const key = hitKey(h);
        const g = cache.get(key) ?? earlier?.get(key);
        if (g === undefined || overlaps(g)) unknown.push(h);
        else {
          known.push([key, g]);
          ids.add(g.id);
          for (const a of g.aliases) ids.add(a);
        }
      }
      if (known.length > 0) {
        const rest = unknown.length === 0 ? [] : groupsFromRecords(unknown, cache);
        if (!rest.some(overlaps)) {
          for (const [key, g] of known) cache.set(key, g);
          return [...known.map(([, g]) => g), ...rest].sort(byRankId);
        }
      }
    }
    return groupsFromRecords(hits, cache);
  };

  const groupsFromRecords = (hits: readonly Hit[], cache: Map<string, Group> | undefined): Group[] => {
    if (db.prefetch !== undefined) {
      // The hits' records, then the records they name (severity falls back on those), two reads in all.
      db.prefetch(hits.map((h) => h.vulnId));
      db.prefetch(hits.flatMap((h) => {
        const r = db.vuln(h.vulnId);
        return r === undefined ? [] : [...(r.aliases ?? []), ...(r.upstream ?? [])];
      }));
    }
    // Union the hits whose records name each other (either way) in `aliases`.
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let root = x;
      while (parent.get(root) !== root && parent.get(root) !== undefined) root = parent.get(root) as string;
      parent.set(x, root);
      return root;
    };
    const owner = new Map<string, string>();
    for (const h of hits) parent.set(h.vulnId, h.vulnId);
    for (const h of hits) {
      const record = db.vuln(h.vulnId);
      for (const id of [h.vulnId, ...(record?.aliases ?? [])]) {
        const seen = owner.get(id);
        if (seen === undefined) owner.set(id, h.vulnId);
        else parent.set(find(seen), find(h.vulnId));
      }
    }
    const groups = new Map<string, Hit[]>();
    for (const h of hits) {
      const root = find(h.vulnId);
      groups.set(root, [...(groups.get(root) ?? []), h]);
    }
    const out: Group[] = [];
    for (const group of groups.values()) {
      // What a group is made of decides everything in it: records, their fixes, how they were reached.
      const key = group.length === 1 && group[0] !== undefined ? hitKey(group[0]) : group.map(hitKey).sort().join("\n");
      let g = cache?.get(key);
      if (g === undefined) {
        const made = makeGroup(group);
        if (made === undefined) continue;
        g = made;
        cache?.set(key, g);
      }
      out.push(g);
    }
    // In (severity, id) order, as every answer lists its groups: one order whatever the DB's row order.
    return out.sort(byRankId);
  };

  /**
   * The groups of hits that each stand alone, made from the facts the DB keeps with every entry and
   * no record read: when no two hits' records share an id (the union below would merge them) and
   * no matched entry has a severity of its own (the record's facts assume none). Undefined
   * otherwise, and the records decide.
   */
  const standsAlone = (hits: readonly Hit[]): Group[] | undefined => {
    const out: Group[] = [];
    for (const h of hits) {
      if (h.facts === undefined || !h.entries.every(entryHasNoSeverity)) return undefined;
      const g = groupFrom(h.facts, h.factIndex, h.vulnId, h.via, h.queryName, h.ecosystem, undefined);
      for (const f of h.fixes) setFix(g, f);
      out.push(g);
    }
    return disjoint(out) ? out.sort(byRankId) : undefined;
  };

  const hitKey = (h: Hit): string => `${h.via}\0${h.queryName}\0${h.vulnId}\0${h.recordHash}\0${h.fixes.join("\0")}`;

  const makeGroup = (group: readonly Hit[]): Group | undefined => {
    const records = group.map((h) => db.vuln(h.vulnId)).filter((r): r is StoredVuln => r !== undefined);
    const ids = new Set<string>();
    for (const r of records) for (const id of [r.id, ...(r.aliases ?? [])]) ids.add(id);
    const id = preferredId([...ids]);
    const primary = group.find((h) => h.vulnId === id) ?? group[0];
    if (primary === undefined) return undefined;
    const ordered = [...records].sort((a, b) => (a.id === primary.vulnId ? -1 : b.id === primary.vulnId ? 1 : 0));
    const sev = severityOf({
      records: ordered.map((record) => ({ record, entries: group.find((h) => h.vulnId === record.id)?.entries ?? [] })),
      lookup: (x) => db.vuln(x)
    });
    const fixed = lowestFix(group.flatMap((h) => h.fixes), primary.ecosystem);
    const made: Group = {
      id,
      aliases: [...ids].filter((x) => x !== id).sort(),
      upstreamIds: [...new Set(records.flatMap((r) => r.upstream ?? []))].sort(),
      severity: sev.severity,
      fixable: fixed !== undefined,
      ecosystem: primary.ecosystem,
      severitySource: sev.source,
      recordIds: ordered.map((r) => r.id),
      detail: undefined
    };
    if (sev.score !== undefined) made.score = sev.score;
    if (primary.via === "source") made.sourcePackage = primary.queryName;
    if (fixed !== undefined) made.fixedVersion = fixed;
    return made;
  };

  /** The report's view of a group, made when first asked for. */
  const detailOf = (g: Group): GroupFinding => {
    let detail = g.detail;
    if (detail === undefined) {
      const recordIds = typeof g.recordIds === "string" ? [g.recordIds] : g.recordIds;
      const ordered = recordIds.map((id) => db.vuln(id)).filter((r): r is StoredVuln => r !== undefined);
      const summary = ordered.find((r) => r.summary !== undefined && r.summary !== "")?.summary;
      const { recordIds: _ids, detail: _none, ...compact } = g;
      detail = {
        ...compact,
        severitySource: compact.severitySource ?? "unknown",
        ...(summary === undefined ? {} : { summary }),
        references: [...new Set(ordered.flatMap((r) => (r.references ?? []).map((ref) => ref.url)))],
        records: [...recordIds].sort()
      };
      g.detail = detail;
    }
    return detail;
  };

  const stampDetail = (pkg: InstalledPackage, g: Group): DetailedFinding => ({
    ...detailOf(g),
    packageName: pkg.name,
    packageVersion: pkg.version,
    ...(pkg.purl === "" ? {} : { purl: pkg.purl }),
    ...(pkg.layer === undefined ? {} : { layer: pkg.layer }),
    analyzer: pkg.analyzer
  });
  // The hot allocation of a rematch (one object per finding): a literal of fixed shape, never a
  // spread, which V8 makes slow for objects built by rest destructuring.
  const stampCompact = (pkg: InstalledPackage, c: Group): Finding => {
    const f: Finding = { id: c.id, aliases: c.aliases, upstreamIds: c.upstreamIds, severity: c.severity, fixable: c.fixable, packageName: pkg.name, packageVersion: pkg.version, ecosystem: c.ecosystem };
    if (c.score !== undefined) f.score = c.score;
    if (pkg.purl !== "") f.purl = pkg.purl;
    if (c.sourcePackage !== undefined) f.sourcePackage = c.sourcePackage;
    if (c.fixedVersion !== undefined) f.fixedVersion = c.fixedVersion;
    if (c.severitySource !== undefined) f.severitySource = c.severitySource;
    if (pkg.layer !== undefined) f.layer = pkg.layer;
    return f;
  };

  /** Every (package, finding group) of an SBOM, sorted as findings are listed, and its coverage. */
  const run = <T extends Finding>(facts: SbomFacts, stamp: (pkg: InstalledPackage, g: Group) => T): { findings: T[]; coverageGaps: CoverageGap[] } => {
    const gaps = new GapCounter();
    const redHatCpes: string[] = [];
    const unmapped: string[] = [];
    for (const entry of facts.contentSetCpes) {
      if (entry.startsWith("cpe:")) redHatCpes.push(entry);
      else {
        const cpes = db.cpesOfRepository(entry);
        if (cpes.length === 0) unmapped.push(entry);
        redHatCpes.push(...cpes);
      }
    }
    const context: FamilyContext = { distribution: facts.distribution, redHatCpes, unmappedContentSets: unmapped };
    // Stamped as found, then sorted: no (package, group) pair per finding on the way.
    const matched = new FindingsBySeverity<T>();
    // Indexed loops, not for…of: in a function this large the iterator is not inlined, and each
    // step would allocate its result object (a few hundred per SBOM, on every rematch).
    const packages = facts.packages;
    for (let p = 0; p < packages.length; p++) {
      const pkg = packages[p] as InstalledPackage;
      const ecosystem = pkg.ecosystem;
      if (ecosystem === undefined) {
        gaps.add("ecosystem-unknown", "", `${pkg.name} ${pkg.version}`, (n, ex) => `${plural(n, "package")} with no OSV ecosystem (unknown distribution or package type), e.g. ${ex.join(", ")}`);
        continue;
      }
      const eco = ecosystemInfo(ecosystem);
      if (eco.family === undefined) {
        gaps.add("ecosystem-unsupported", eco.base, `${pkg.name} ${pkg.version}`, (n, ex) => `${eco.base}: ${plural(n, "package")} in an ecosystem whose versions scanhook cannot order, e.g. ${ex.join(", ")}`);
        continue;
      }
      // The package itself, not a copy with `ecosystem` spread in: one copy per package per rematch adds up.
      const plan = eco.family.plan(pkg as InstalledPackage & { readonly ecosystem: string }, context);
      if (!plan.ok) {
        gaps.add(plan.gap.kind, plan.gap.detail, `${pkg.name} ${pkg.version}`, (n) => `${plural(n, "package")}: ${plan.gap.detail}`);
        continue;
      }
      const queries = plan.queries;
      // Almost every package is one query: answered without the arrays the general case builds.
      const only = queries.length === 1 ? queries[0] : undefined;
      const withData = only !== undefined ? (hasData(only.ecosystem) ? queries : []) : queries.filter((q) => hasData(q.ecosystem));
      if (withData.length === 0) {
        const shown = [...new Set(queries.map((q) => q.ecosystem))].join(", ");
        gaps.add("ecosystem-no-data", shown, `${pkg.name} ${pkg.version}`, (n) => `${shown}: ${plural(n, "package")}, and this DB has no records for that ecosystem`);
        continue;
      }
      if (only !== undefined) {
        const r = evaluate(only);
        if (!r.parsed) {
          gaps.add("version-unparseable", only.ecosystem, `${pkg.name} ${only.version}`, (n, ex) => `${only.ecosystem}: ${plural(n, "package")} whose version does not parse, e.g. ${ex.join(", ")}`);
          continue;
        }
        for (let u = 0; u < r.unreadable.length; u++) gaps.add("advisory-unreadable", "", r.unreadable[u] as string, unreadableText);
        if (r.groups === undefined && r.hits !== undefined && r.hits.length > 0) {
          const entry = packageFor(only.ecosystem, only.name);
          r.groups = groupsFor(r.hits, entry.groups, entry.earlier);
          r.hits = undefined;
        }
        const groups = r.groups;
        if (groups !== undefined) for (let k = 0; k < groups.length; k++) matched.add(stamp(pkg, groups[k] as Group));
        continue;
      }
      // Answers whose hits were let go (grouped for a one-query plan) are worked out again here.
      const results = withData.map((q) => {
        const r = evaluate(q);
        return r.hits === undefined ? evaluate(q, true) : r;
      });
      const badAt = results.findIndex((r) => !r.parsed);
      const bad = badAt < 0 ? undefined : withData[badAt];
      if (bad !== undefined) {
        gaps.add("version-unparseable", bad.ecosystem, `${pkg.name} ${bad.version}`, (n, ex) => `${bad.ecosystem}: ${plural(n, "package")} whose version does not parse, e.g. ${ex.join(", ")}`);
        continue;
      }
      for (const r of results) for (const id of r.unreadable) gaps.add("advisory-unreadable", "", id, unreadableText);
      const hits = results.flatMap((r) => r.hits ?? []);
      if (hits.length > 0) for (const g of groupsFor(hits, undefined)) matched.add(stamp(pkg, g));
    }
    const seen = new Set<string>();
    const coverageGaps: CoverageGap[] = [];
    for (const g of [...facts.coverageGaps, ...gaps.list()]) {
      const key = `${g.kind}\0${g.detail}`;
      if (!seen.has(key)) {
        seen.add(key);
        coverageGaps.push(g);
      }
    }
    return { findings: matched.sorted(), coverageGaps };
  };

  const matcher: DetailedMatcher = {
    dbVersion: db.version,
    // The compact index only (what a stored record holds): no report-sized objects are built.
    match: (facts, now) => {
      const { findings, coverageGaps } = run(facts, stampCompact);
      return { findings, coverageGaps, dbVersion: db.version, matchedAt: now.toISOString() };
    },
    matchDetailed: (facts, now) => {
      const { findings: detailed, coverageGaps } = run(facts, stampDetail);
      return { findings: detailed.map(compact), detailed, coverageGaps, dbVersion: db.version, matchedAt: now.toISOString() };
    }
  };
  takeOver.set(matcher, {
    packageOf: (ecosystem, name) => packages.get(ecosystem)?.get(name),
    forgetPrevious: () => {
      previous = undefined;
    }
  });
  return matcher;
}

/** The compact index row (image-record.ts `FindingSchema`) of a detailed finding. */
export function compact(f: DetailedFinding): Finding {
  const { summary: _s, references: _r, records: _rec, analyzer: _a, ...rest } = f;
  return rest;
}

/** Distinct vulnerabilities by severity: what counts and policy limits count (one CVE on five binaries is one). */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const ids: Record<Severity, Set<string>> = { critical: new Set(), high: new Set(), medium: new Set(), low: new Set(), negligible: new Set(), unknown: new Set() };
  for (const f of findings) ids[f.severity].add(f.id);
  return Object.fromEntries(SEVERITY_ORDER.map((s) => [s, ids[s].size])) as Record<Severity, number>;
}
