/**
 * A finding's severity, from the best source its records offer, in this order (issue 9):
 * 1. a CVSS base score computed from a vector in `severity[]` (the matched `affected[]` entries'
 *    first, then the record's; https://ossf.github.io/osv-schema/#severity-field): a v3.x vector
 *    (`CVSS_V3`) anywhere in the record first, else a v4.0 one (`CVSS_V4`, base score CVSS-B);
 * 2. a rating the record carries: `ecosystem_specific.severity` or `database_specific.severity`
 *    (GitHub's GHSA records: LOW, MODERATE, HIGH, CRITICAL —
 *    https://docs.github.com/en/code-security/security-advisories/working-with-global-security-advisories-from-the-github-advisory-database/about-the-github-advisory-database),
 *    or an `Ubuntu` priority in `severity[]`;
 * 3. the same from a record one of its aliases or upstream ids names (a DLA without a score, its
 *    CVE with one);
 * 4. `unknown`.
 * The result names where it came from (`cvss_v3:GHSA-…`, `cvss_v4:GHSA-…`, `rating:DSA-…`,
 * `alias:cvss_v3:CVE-…`).
 *
 * v3 before v4: a record that carries both (GitHub's advisories can) keeps the v3 score it had
 * before scanhook read v4, so adding v4 changes no existing finding's score, and with it no verdict
 * under a `maxScore` policy written against v3 numbers; the two scales differ for the same flaw
 * (AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H is 9.8 in v3.1, its v4.0 counterpart 9.3). v4.0 scores the
 * records that have no v3 vector, which before fell back to a rating or to `unknown`. Both use the
 * same qualitative scale (v3.1 and v4.0 specifications, "Qualitative Severity Rating Scale").
 * Across aliases the same ranking holds: v3 over v4 over a rating.
 */
import type { Severity } from "../domain/image-record.js";
import { cvss3BaseScore, ratingOf } from "./cvss.js";
import { cvss4BaseScore } from "./cvss4.js";
import type { OsvAffected, OsvSeverity } from "./osv.js";
import type { StoredVuln } from "./db/reader.js";

export interface SeverityResult {
  readonly severity: Severity;
  readonly score?: number;
  readonly source: string;
}

const RATINGS: Readonly<Record<string, Severity>> = {
  critical: "critical",
  high: "high",
  important: "high",
  moderate: "medium",
  medium: "medium",
  low: "low",
  minor: "low",
  negligible: "negligible",
  unimportant: "negligible"
};

function ratingFrom(value: unknown): Severity | undefined {
  return typeof value === "string" ? RATINGS[value.trim().toLowerCase()] : undefined;
}

/** The vector types scanhook scores, best first, with the method name a source carries. */
const VECTOR_METHODS = [
  { type: "CVSS_V3", method: "cvss_v3", score: cvss3BaseScore },
  { type: "CVSS_V4", method: "cvss_v4", score: cvss4BaseScore }
] as const;
type VectorMethod = (typeof VECTOR_METHODS)[number];

/** Methods best first: a vector score of either version beats a rating (the alias pass ranks by this). */
const METHOD_RANK: Readonly<Record<string, number>> = { cvss_v3: 0, cvss_v4: 1, rating: 2 };

/** Scores by vector, per method: a few vectors recur across thousands of records. Bounded. */
const SCORED: Readonly<Record<VectorMethod["method"], Map<string, number | null>>> = { cvss_v3: new Map(), cvss_v4: new Map() };
const SCORED_LIMIT = 10_000;

function scoreOf(kind: VectorMethod, vector: string): number | undefined {
  const memo = SCORED[kind.method];
  let score = memo.get(vector);
  if (score === undefined) {
    score = kind.score(vector) ?? null;
    if (memo.size >= SCORED_LIMIT) memo.clear();
    memo.set(vector, score);
  }
  return score ?? undefined;
}

function fromVectors(list: readonly OsvSeverity[] | undefined, kind: VectorMethod): { score: number; method: string } | undefined {
  for (const s of list ?? []) {
    if (s.type !== kind.type) continue;
    const score = scoreOf(kind, s.score);
    if (score !== undefined) return { score, method: kind.method };
  }
  return undefined;
}

function fromRatings(record: StoredVuln, entries: readonly OsvAffected[]): Severity | undefined {
  for (const e of entries) {
    const r = ratingFrom(e.ecosystem_specific?.severity) ?? ratingFrom(e.database_specific?.severity);
    if (r !== undefined) return r;
  }
  const own = ratingFrom(record.database_specific?.severity);
  if (own !== undefined) return own;
  for (const s of [...(record.severity ?? []), ...entries.flatMap((e) => e.severity ?? [])]) {
    if (s.type === "Ubuntu") {
      const r = ratingFrom(s.score);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

function ownSeverity(record: StoredVuln, entries: readonly OsvAffected[]): { severity: Severity; score?: number; method: string } | undefined {
  for (const kind of VECTOR_METHODS) {
    for (const e of entries) {
      const v = fromVectors(e.severity, kind);
      if (v !== undefined) return { severity: ratingOf(v.score), score: v.score, method: v.method };
    }
    const v = fromVectors(record.severity, kind);
    if (v !== undefined) return { severity: ratingOf(v.score), score: v.score, method: v.method };
  }
  const r = fromRatings(record, entries);
  return r === undefined ? undefined : { severity: r, method: "rating" };
}

export interface SeverityInput {
  /** The group's records, the reported one first, each with the `affected[]` entries that matched. */
  readonly records: readonly { readonly record: StoredVuln; readonly entries: readonly OsvAffected[] }[];
  /** Looks up a record by id (for aliases and upstream ids outside the group). */
  readonly lookup: (id: string) => StoredVuln | undefined;
}

export function severityOf(input: SeverityInput): SeverityResult {
  for (const { record, entries } of input.records) {
    const s = ownSeverity(record, entries);
    if (s !== undefined) return { severity: s.severity, ...(s.score === undefined ? {} : { score: s.score }), source: `${s.method}:${record.id}` };
  }
  // One pass over each record; methods are ranked, so a vector on any alias beats a rating on another.
  const inGroup = new Set(input.records.map((r) => r.record.id));
  const candidates: StoredVuln[] = [];
  for (const { record } of input.records) {
    for (const id of [...(record.aliases ?? []), ...(record.upstream ?? [])]) {
      if (inGroup.has(id)) continue;
      inGroup.add(id);
      const other = input.lookup(id);
      if (other !== undefined) candidates.push(other);
    }
  }
  let best: { severity: Severity; score?: number; method: string; id: string } | undefined;
  for (const other of candidates) {
    const s = ownSeverity(other, []);
    if (s === undefined) continue;
    if (best === undefined || (METHOD_RANK[s.method] ?? 3) < (METHOD_RANK[best.method] ?? 3)) best = { ...s, id: other.id };
  }
  if (best !== undefined) return { severity: best.severity, ...(best.score === undefined ? {} : { score: best.score }), source: `alias:${best.method}:${best.id}` };
  return { severity: "unknown", source: "none" };
}
