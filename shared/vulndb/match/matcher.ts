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
import type { AffectedRow, StoredVuln } from "../db/reader.js";
import { normalizeName } from "../names.js";
import type { OsvAffected } from "../osv.js";
import { severityOf } from "../severity.js";
import { baseEcosystem, compareVersions, comparatorFor, parseVersion } from "../versions/index.js";
import { isAffected } from "../versions/ranges.js";
import { familyFor, FAMILY_VERSIONS, type FamilyContext, type MatchQuery } from "./families/index.js";

/** What the matcher reads from a DB; `VulnDb` implements it. */
export interface VulnData {
  readonly version: string;
  ecosystemRecords(ecosystem: string): number;
  affected(ecosystem: string, name: string): readonly AffectedRow[];
  vuln(id: string): StoredVuln | undefined;
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
  readonly ecosystem: string;
  readonly via: MatchQuery["via"];
  readonly queryName: string;
  readonly entries: OsvAffected[];
  readonly fixes: string[];
}

type GroupFinding = Omit<DetailedFinding, "packageName" | "packageVersion" | "purl" | "layer" | "analyzer">;

interface Evaluated {
  /** False when the installed version does not parse in the query's ecosystem (nothing else is then filled). */
  readonly parsed: boolean;
  readonly hits: Hit[];
  readonly unreadable: string[];
  /** Filled on first use; the same hits always make the same groups. */
  groups: Group[] | undefined;
}

/** A finding's package-independent part, in both shapes, with its sort rank: stamped per package. */
interface Group {
  readonly detail: GroupFinding;
  readonly compact: Omit<Finding, "packageName" | "packageVersion" | "purl" | "layer">;
  readonly rank: number;
}

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

/**
 * Reported id of a group (its records' ids and aliases): a CVE id if there is one, else a GHSA,
 * else the smallest, so the same vulnerability reached through different records (a GHSA on one
 * package, a PYSEC on another) carries one id and counts once.
 */
function preferredId(ids: readonly string[]): string {
  const rank = (id: string): number => (id.startsWith("CVE-") ? 0 : id.startsWith("GHSA-") ? 1 : 2);
  return [...ids].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))[0] ?? "";
}

export function createMatcher(db: VulnData): DetailedMatcher {
  // (ecosystem, name, version, via) → hits: rematching many images asks the same questions.
  const cache = new Map<string, Evaluated>();
  const CACHE_LIMIT = 500_000;

  const remember = (key: string, value: Evaluated): void => {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, value);
  };

  // Rematching thousands of stored images asks the same few thousand questions again and again:
  // the answer, the version check included, is looked up before anything is parsed.
  const evaluate = (q: MatchQuery): Evaluated => {
    const key = q.accept === undefined ? `${q.ecosystem}\0${q.name}\0${q.version}\0${q.via}` : undefined;
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached !== undefined) return cached;
    if (!parseVersion(q.version, q.ecosystem).ok) {
      const out: Evaluated = { parsed: false, hits: [], unreadable: [], groups: [] };
      if (key !== undefined) remember(key, out);
      return out;
    }
    const byVuln = new Map<string, Hit>();
    const unreadable: string[] = [];
    for (const row of db.affected(q.ecosystem, normalizeName(q.ecosystem, q.name))) {
      if (q.accept !== undefined && !q.accept(row.entry)) continue;
      const result = isAffected(q.version, row.entry, q.ecosystem);
      // The installed version parsed (checked above), so a warning is about the record's events.
      if (result.warnings.length > 0 && !result.affected) unreadable.push(row.vulnId);
      if (!result.affected) continue;
      let hit = byVuln.get(row.vulnId);
      if (hit === undefined) {
        hit = { vulnId: row.vulnId, ecosystem: q.ecosystem, via: q.via, queryName: q.name, entries: [], fixes: [] };
        byVuln.set(row.vulnId, hit);
      }
      hit.entries.push(row.entry);
      if (result.fixed !== undefined) hit.fixes.push(result.fixed);
    }
    const out: Evaluated = { parsed: true, hits: [...byVuln.values()], unreadable, groups: undefined };
    if (key !== undefined) remember(key, out);
    return out;
  };

  /** The package-independent part of each finding: computed once per set of hits, stamped per package. */
  const groupsFor = (hits: readonly Hit[]): Group[] => {
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
      const records = group.map((h) => db.vuln(h.vulnId)).filter((r): r is StoredVuln => r !== undefined);
      const ids = new Set<string>();
      for (const r of records) for (const id of [r.id, ...(r.aliases ?? [])]) ids.add(id);
      const id = preferredId([...ids]);
      const primary = group.find((h) => h.vulnId === id) ?? group[0];
      if (primary === undefined) continue;
      const ordered = [...records].sort((a, b) => (a.id === primary.vulnId ? -1 : b.id === primary.vulnId ? 1 : 0));
      const sev = severityOf({
        records: ordered.map((record) => ({ record, entries: group.find((h) => h.vulnId === record.id)?.entries ?? [] })),
        lookup: (x) => db.vuln(x)
      });
      const fixed = lowestFix(group.flatMap((h) => h.fixes), primary.ecosystem);
      const upstream = [...new Set(records.flatMap((r) => r.upstream ?? []))].sort();
      const summary = ordered.find((r) => r.summary !== undefined && r.summary !== "")?.summary;
      const references = [...new Set(ordered.flatMap((r) => (r.references ?? []).map((ref) => ref.url)))];
      const viaSource = primary.via === "source";
      const detail: GroupFinding = {
        id,
        aliases: [...ids].filter((x) => x !== id).sort(),
        upstreamIds: upstream,
        severity: sev.severity,
        ...(sev.score === undefined ? {} : { score: sev.score }),
        fixable: fixed !== undefined,
        ecosystem: primary.ecosystem,
        ...(viaSource ? { sourcePackage: primary.queryName } : {}),
        ...(fixed === undefined ? {} : { fixedVersion: fixed }),
        severitySource: sev.source,
        ...(summary === undefined ? {} : { summary }),
        references,
        records: group.map((h) => h.vulnId).sort()
      };
      const { summary: _s, references: _r, records: _rec, ...compactPart } = detail;
      out.push({ detail, compact: compactPart, rank: SEVERITY_ORDER.indexOf(sev.severity) });
    }
    return out;
  };

  const stampDetail = (pkg: InstalledPackage, g: Group): DetailedFinding => ({
    ...g.detail,
    packageName: pkg.name,
    packageVersion: pkg.version,
    ...(pkg.purl === "" ? {} : { purl: pkg.purl }),
    ...(pkg.layer === undefined ? {} : { layer: pkg.layer }),
    analyzer: pkg.analyzer
  });
  // The hot allocation of a rematch (one object per finding): a literal of fixed shape, never a
  // spread, which V8 makes slow for objects built by rest destructuring.
  const stampCompact = (pkg: InstalledPackage, g: Group): Finding => {
    const c = g.compact;
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
  const run = (facts: SbomFacts): { matched: [InstalledPackage, Group][]; coverageGaps: CoverageGap[] } => {
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
    const matched: [InstalledPackage, Group][] = [];
    for (const pkg of facts.packages) {
      const ecosystem = pkg.ecosystem;
      const label = `${pkg.name} ${pkg.version}`;
      if (ecosystem === undefined) {
        gaps.add("ecosystem-unknown", "", label, (n, ex) => `${plural(n, "package")} with no OSV ecosystem (unknown distribution or package type), e.g. ${ex.join(", ")}`);
        continue;
      }
      if (!comparatorFor(ecosystem).ok) {
        gaps.add("ecosystem-unsupported", baseEcosystem(ecosystem), label, (n, ex) => `${baseEcosystem(ecosystem)}: ${plural(n, "package")} in an ecosystem whose versions scanhook cannot order, e.g. ${ex.join(", ")}`);
        continue;
      }
      // The package itself, not a copy with `ecosystem` spread in: one copy per package per rematch adds up.
      const plan = familyFor(baseEcosystem(ecosystem)).plan(pkg as InstalledPackage & { readonly ecosystem: string }, context);
      if (!plan.ok) {
        gaps.add(plan.gap.kind, plan.gap.detail, label, (n) => `${plural(n, "package")}: ${plan.gap.detail}`);
        continue;
      }
      const withData = plan.queries.filter((q) => db.ecosystemRecords(q.ecosystem) > 0);
      if (withData.length === 0) {
        const shown = [...new Set(plan.queries.map((q) => q.ecosystem))].join(", ");
        gaps.add("ecosystem-no-data", shown, label, (n) => `${shown}: ${plural(n, "package")}, and this DB has no records for that ecosystem`);
        continue;
      }
      const results = withData.map(evaluate);
      const badAt = results.findIndex((r) => !r.parsed);
      const bad = badAt < 0 ? undefined : withData[badAt];
      if (bad !== undefined) {
        gaps.add("version-unparseable", bad.ecosystem, `${pkg.name} ${bad.version}`, (n, ex) => `${bad.ecosystem}: ${plural(n, "package")} whose version does not parse, e.g. ${ex.join(", ")}`);
        continue;
      }
      for (const r of results) {
        for (const id of r.unreadable) gaps.add("advisory-unreadable", "", id, (n, ex) => `${plural(n, "advisory range")} could not be read and did not match, e.g. ${ex.join(", ")}`);
      }
      const single = results.length === 1 ? results[0] : undefined;
      if (single !== undefined) {
        if (single.hits.length > 0) for (const g of (single.groups ??= groupsFor(single.hits))) matched.push([pkg, g]);
      } else {
        const hits = results.flatMap((r) => r.hits);
        if (hits.length > 0) for (const g of groupsFor(hits)) matched.push([pkg, g]);
      }
    }
    matched.sort(
      ([pa, a], [pb, b]) =>
        a.rank - b.rank ||
        (a.compact.id < b.compact.id ? -1 : a.compact.id > b.compact.id ? 1 : 0) ||
        (pa.name < pb.name ? -1 : pa.name > pb.name ? 1 : 0)
    );
    const seen = new Set<string>();
    const coverageGaps: CoverageGap[] = [];
    for (const g of [...facts.coverageGaps, ...gaps.list()]) {
      const key = `${g.kind}\0${g.detail}`;
      if (!seen.has(key)) {
        seen.add(key);
        coverageGaps.push(g);
      }
    }
    return { matched, coverageGaps };
  };

  return {
    dbVersion: db.version,
    // The compact index only (what a stored record holds): no report-sized objects are built.
    match: (facts, now) => {
      const { matched, coverageGaps } = run(facts);
      return { findings: matched.map(([pkg, g]) => stampCompact(pkg, g)), coverageGaps, dbVersion: db.version, matchedAt: now.toISOString() };
    },
    matchDetailed: (facts, now) => {
      const { matched, coverageGaps } = run(facts);
      const detailed = matched.map(([pkg, g]) => stampDetail(pkg, g));
      return { findings: detailed.map(compact), detailed, coverageGaps, dbVersion: db.version, matchedAt: now.toISOString() };
    }
  };
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
