/**
 * A finding's severity, from the best source its records offer, in this order (issue 9):
 * 1. a CVSS v3.x base score computed from a vector in `severity[]` (the matched `affected[]`
 *    entries' first, then the record's; https://ossf.github.io/osv-schema/#severity-field);
 * 2. a rating the record carries: `ecosystem_specific.severity` or `database_specific.severity`
 *    (GitHub's GHSA records: LOW, MODERATE, HIGH, CRITICAL —
 *    https://docs.github.com/en/code-security/security-advisories/working-with-global-security-advisories-from-the-github-advisory-database/about-the-github-advisory-database),
 *    or an `Ubuntu` priority in `severity[]`;
 * 3. the same from a record one of its aliases or upstream ids names (a DLA without a score, its
 *    CVE with one);
 * 4. `unknown`.
 * The result names where it came from (`cvss_v3:GHSA-…`, `rating:DSA-…`, `alias:cvss_v3:CVE-…`).
 *
 * CVSS v4.0 vectors are recognised but not yet scored (the v4.0 MacroVector tables are not in
 * scanhook): a record with only a v4.0 vector falls through to its rating.
 */
import type { Severity } from "../domain/image-record.js";
import { cvss3BaseScore, ratingOf } from "./cvss.js";
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

function fromVectors(list: readonly OsvSeverity[] | undefined): { score: number; method: string } | undefined {
  for (const s of list ?? []) {
    if (s.type !== "CVSS_V3") continue;
    const score = cvss3BaseScore(s.score);
    if (score !== undefined) return { score, method: "cvss_v3" };
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
  for (const e of entries) {
    const v = fromVectors(e.severity);
    if (v !== undefined) return { severity: ratingOf(v.score), score: v.score, method: v.method };
  }
  const v = fromVectors(record.severity);
  if (v !== undefined) return { severity: ratingOf(v.score), score: v.score, method: v.method };
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
    if (best === undefined || (best.score === undefined && s.score !== undefined)) best = { ...s, id: other.id };
  }
  if (best !== undefined) return { severity: best.severity, ...(best.score === undefined ? {} : { score: best.score }), source: `alias:${best.method}:${best.id}` };
  return { severity: "unknown", source: "none" };
}
