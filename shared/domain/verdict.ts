/**
 * "May this digest run?" — the policy applied to a record's stored facts (DESIGN principles 3–5).
 * Pure: no I/O, no clock of its own (`now` is passed), so the same record and policy always give
 * the same answer, and every answer says why.
 *
 * For each location of the digest the first matching rule decides; the digest's verdict is the
 * strictest over its locations, and a caller naming a reference gets that location's. A result
 * always wins over the scan state (a rescan keeps the last verdict); without one, a queued or
 * scanning digest is pending, a failed or timed-out one gets the policy's `failedScan` answer.
 */
import type { CachedVerdict, CoverageGap, Finding, ImageRecord, Location, Platform, ScanError, Severity, Verdict } from "./image-record.js";
import { SeveritySchema } from "./image-record.js";
import { decidingStatement, vexStatementsFor, type VexStatement } from "./openvex.js";
import { ruleFor, severityRank, strictest, type EffectiveRule, type Exemption, type Policy, type PolicyMode } from "./policy.js";

/** Findings listed per reason and in the summary: the worst first. */
export const TOP_FINDINGS = 10;

export type ReasonCode =
  | "untrusted-registry"
  | "tag-only"
  | "max-severity"
  | "max-score"
  | "max-count"
  | "unknown-severity"
  | "coverage-gap"
  | "stale-match"
  | "failed-scan"
  | "pending";

export interface FindingSummary {
  readonly id: string;
  readonly severity: Severity;
  readonly score?: number;
  readonly packageName: string;
  readonly packageVersion: string;
  readonly fixedVersion?: string;
}

export interface Reason {
  readonly code: ReasonCode;
  readonly verdict: Verdict;
  readonly message: string;
  /** The findings that broke the rule (the worst `TOP_FINDINGS`). */
  readonly findings?: readonly FindingSummary[];
  /** How many findings broke it in all. */
  readonly count?: number;
  readonly gap?: CoverageGap;
  readonly cause?: ScanError;
  /** For an index: the platform this reason comes from. */
  readonly platform?: string;
}

export interface AppliedExemption {
  readonly id: string;
  readonly finding: string;
  readonly repository?: string;
  readonly digest?: string;
  readonly reason: string;
  readonly by: string;
  readonly expires: string;
}

export interface AppliedVex {
  readonly document: string;
  readonly vulnerability: string;
  readonly finding: string;
  readonly status: string;
  readonly justification?: string;
}

export interface LocationEvaluation {
  /** Undefined only for a digest with no location at all (judged by the default rule). */
  readonly registry?: string;
  readonly repository?: string;
  /** False when a caller named a location the record does not list (judged as if it did). */
  readonly known: boolean;
  readonly rule: string;
  readonly verdict: Verdict;
  readonly reasons: readonly Reason[];
  /** When this location's answer may change by time alone. */
  readonly validUntil?: string;
}

export interface FindingsSummary {
  /** In the record. */
  readonly total: number;
  /** After VEX, exemptions and `fixableOnly`, at the deciding location. */
  readonly considered: number;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  /** The worst findings considered. */
  readonly top: readonly FindingSummary[];
}

export interface PlatformEvaluation {
  readonly digest: string;
  readonly platform: string | undefined;
  readonly status: "verdict" | "pending";
  readonly verdict: Verdict;
  readonly decidedBy: DecidedBy;
}

export interface DecidedBy {
  readonly registry?: string;
  readonly repository?: string;
  readonly rule: string;
  /** Absent when nothing objected (`allow`). */
  readonly code?: ReasonCode;
  readonly message: string;
  readonly platform?: string;
}

export interface Evaluation {
  readonly digest: string;
  readonly verdict: Verdict;
  readonly decidedBy: DecidedBy;
  readonly locations: readonly LocationEvaluation[];
  readonly findings: FindingsSummary;
  readonly exemptions: readonly AppliedExemption[];
  readonly vex: readonly AppliedVex[];
  readonly coverageGaps: readonly CoverageGap[];
  readonly policyVersion: string;
  readonly dbVersion?: string;
  readonly matchedAt?: string;
  /** When the image was indexed (the result's `indexedAt`). */
  readonly scannedAt?: string;
  readonly scan: { readonly state: string; readonly lastError?: ScanError };
  /** An index: each platform's answer. */
  readonly platforms?: readonly PlatformEvaluation[];
  readonly computedAt: string;
  readonly validUntil?: string;
}

/** A location as a caller names it: `registry/repository[:tag][@digest]`. */
export interface VerdictReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export interface AdmissionHint {
  /** What admission does with this answer under the policy. */
  readonly verdict: PolicyMode;
  readonly rule: string;
  readonly mode: "pending" | "unknown";
}

export type Decision =
  | { readonly status: "verdict"; readonly evaluation: Evaluation }
  | { readonly status: "pending"; readonly digest: string; readonly scanState: string; readonly admission: AdmissionHint; readonly policyVersion: string }
  | { readonly status: "unknown"; readonly digest: string; readonly admission: AdmissionHint; readonly policyVersion: string }
  | { readonly status: "not-an-image"; readonly digest: string; readonly reason: string; readonly policyVersion: string };

export interface DecideOptions {
  readonly now: Date;
  readonly reference?: VerdictReference;
  /**
   * Locations to judge a platform manifest under: its index's (a platform manifest is pulled
   * through its index and rarely has locations of its own).
   */
  readonly inheritedLocations?: readonly Location[];
}

const SEVERITIES = SeveritySchema.options;

function summarize(f: Finding): FindingSummary {
  return {
    id: f.id,
    severity: f.severity,
    ...(f.score === undefined ? {} : { score: f.score }),
    packageName: f.packageName,
    packageVersion: f.packageVersion,
    ...(f.fixedVersion === undefined ? {} : { fixedVersion: f.fixedVersion })
  };
}

/** Worst first: severity, then score, then id (so the order is stable). */
function worstFirst(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || (b.score ?? -1) - (a.score ?? -1) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function idsOf(f: Finding): string[] {
  return [f.id, ...f.aliases, ...f.upstreamIds];
}

export function platformName(p: Platform | undefined): string | undefined {
  if (p === undefined) return undefined;
  return [p.os, p.architecture, ...(p.variant === undefined ? [] : [p.variant])].join("/");
}

function isRunnable(record: ImageRecord): boolean {
  return record.kind !== "artifact" && record.scan.state !== "skipped";
}

interface Place {
  readonly registry: string | undefined;
  readonly repository: string | undefined;
  readonly known: boolean;
  readonly tagOnly: boolean;
}

function placesOf(record: ImageRecord, options: DecideOptions): Place[] {
  const ref = options.reference;
  const locations = record.locations.length > 0 ? record.locations : (options.inheritedLocations ?? []);
  if (ref !== undefined) {
    const known = locations.some((l) => l.registry === ref.registry && l.repository === ref.repository);
    return [{ registry: ref.registry, repository: ref.repository, known, tagOnly: ref.tag !== undefined && ref.digest === undefined }];
  }
  const seen = new Set<string>();
  const places: Place[] = [];
  for (const l of locations) {
    const key = `${l.registry}/${l.repository}`;
    if (seen.has(key)) continue;
    seen.add(key);
    places.push({ registry: l.registry, repository: l.repository, known: true, tagOnly: false });
  }
  return places.length > 0 ? places : [{ registry: undefined, repository: undefined, known: true, tagOnly: false }];
}

function located(place: Place): { registry: string; repository: string } | undefined {
  return place.registry === undefined || place.repository === undefined ? undefined : { registry: place.registry, repository: place.repository };
}

interface LocationWork {
  readonly evaluation: LocationEvaluation;
  readonly considered: readonly Finding[];
  readonly exemptions: readonly AppliedExemption[];
  readonly vex: readonly AppliedVex[];
}

function exemptionApplies(e: Exemption, ids: readonly string[], digest: string, repository: string | undefined, nowMs: number): boolean {
  if (e.expiresMs <= nowMs) return false;
  if (!ids.includes(e.id)) return false;
  if (e.digest !== undefined && e.digest !== digest) return false;
  if (e.repository !== undefined && (repository === undefined || !e.repository.test(repository))) return false;
  return true;
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b < a ? b : a;
}

function placeReasons(policy: Policy, rule: EffectiveRule, place: Place): Reason[] {
  const reasons: Reason[] = [];
  if (policy.trustedRegistries !== undefined && place.registry !== undefined && !policy.trustedRegistries.some((r) => r.test(place.registry ?? ""))) {
    reasons.push({ code: "untrusted-registry", verdict: "deny", message: `${place.registry} is not one of the policy's trusted registries` });
  }
  if (place.tagOnly && rule.modes.tagOnly !== "allow") {
    reasons.push({ code: "tag-only", verdict: rule.modes.tagOnly, message: "the reference names a tag only; a tag can move, a digest cannot" });
  }
  return reasons;
}

function evaluateLocation(policy: Policy, record: ImageRecord, place: Place, statements: readonly VexStatement[], now: Date): LocationWork {
  const rule = ruleFor(policy, located(place));
  const reasons = placeReasons(policy, rule, place);
  const nowMs = now.getTime();
  const result = record.result;
  const exemptions: AppliedExemption[] = [];
  const vex: AppliedVex[] = [];
  const considered: Finding[] = [];
  let validUntil: string | undefined;

  if (result === undefined) {
    // Only reached for a failed or timed-out first scan: nothing is known about the image.
    const cause = record.scan.lastError;
    reasons.push({
      code: "failed-scan",
      verdict: rule.modes.failedScan,
      message: `the first scan ${record.scan.state === "timeout" ? "timed out" : "failed"}${cause === undefined ? "" : `: ${cause.code}: ${cause.message}`}`,
      ...(cause === undefined ? {} : { cause })
    });
  } else {
    for (const f of result.findings) {
      const ids = idsOf(f);
      const statement = decidingStatement(statements, { ids, purl: f.purl });
      if (statement !== undefined && (statement.status === "not_affected" || statement.status === "fixed")) {
        vex.push({
          document: statement.document,
          vulnerability: statement.vulnerabilities.find((v) => ids.includes(v)) ?? f.id,
          finding: f.id,
          status: statement.status,
          ...(statement.justification === undefined ? {} : { justification: statement.justification })
        });
        continue;
      }
      const exemption = policy.exemptions.find((e) => exemptionApplies(e, ids, record.id, place.repository, nowMs));
      if (exemption !== undefined) {
        exemptions.push({
          id: exemption.id,
          finding: f.id,
          ...(exemption.repositoryGlob === undefined ? {} : { repository: exemption.repositoryGlob }),
          ...(exemption.digest === undefined ? {} : { digest: exemption.digest }),
          reason: exemption.reason,
          by: exemption.by,
          expires: exemption.expires
        });
        validUntil = earliest(validUntil, exemption.expires);
        continue;
      }
      if (rule.fixableOnly && !f.fixable) continue;
      considered.push(f);
    }
    considered.sort(worstFirst);
    reasons.push(...findingReasons(rule, considered));
    for (const gap of result.coverageGaps) {
      const mode = rule.modes.coverage[gap.kind] ?? rule.modes.otherGaps;
      if (mode === "allow") continue;
      reasons.push({ code: "coverage-gap", verdict: mode, message: `not assessed: ${gap.kind}${gap.detail === "" ? "" : ` (${gap.detail})`}`, gap });
    }
    if (rule.maxMatchAgeMs !== undefined) {
      const staleAt = Date.parse(result.matchedAt) + rule.maxMatchAgeMs;
      if (staleAt <= nowMs) {
        if (rule.modes.staleMatch !== "allow") {
          reasons.push({ code: "stale-match", verdict: rule.modes.staleMatch, message: `the last match (${result.matchedAt}) is older than the rule's maxMatchAge` });
        }
      } else {
        validUntil = earliest(validUntil, new Date(staleAt).toISOString());
      }
    }
  }
  const verdict = strictest(reasons.map((r) => r.verdict));
  return {
    evaluation: {
      ...(place.registry === undefined ? {} : { registry: place.registry }),
      ...(place.repository === undefined ? {} : { repository: place.repository }),
      known: place.known,
      rule: rule.name,
      verdict,
      reasons,
      ...(validUntil === undefined ? {} : { validUntil })
    },
    considered,
    exemptions,
    vex
  };
}

function findingReasons(rule: EffectiveRule, considered: readonly Finding[]): Reason[] {
  const reasons: Reason[] = [];
  const top = (list: Finding[]) => ({ findings: list.slice(0, TOP_FINDINGS).map(summarize), count: list.length });
  if (rule.maxSeverity !== undefined) {
    const limit = severityRank(rule.maxSeverity);
    const above = considered.filter((f) => f.severity !== "unknown" && severityRank(f.severity) > limit);
    if (above.length > 0) {
      reasons.push({ code: "max-severity", verdict: rule.onViolation, message: `${above.length} finding(s) above ${rule.maxSeverity}`, ...top(above) });
    }
  }
  if (rule.maxScore !== undefined) {
    const limit = rule.maxScore;
    const above = considered.filter((f) => f.score !== undefined && f.score > limit);
    if (above.length > 0) {
      reasons.push({ code: "max-score", verdict: rule.onViolation, message: `${above.length} finding(s) with a CVSS score above ${limit}`, ...top(above) });
    }
  }
  for (const severity of SEVERITIES) {
    const limit = rule.maxCounts[severity];
    if (limit === undefined) continue;
    const at = considered.filter((f) => f.severity === severity);
    if (at.length > limit) {
      reasons.push({ code: "max-count", verdict: rule.onViolation, message: `${at.length} ${severity} finding(s), more than ${limit}`, ...top(at) });
    }
  }
  const unknown = considered.filter((f) => f.severity === "unknown");
  if (unknown.length > 0 && rule.modes.unknownSeverity !== "allow") {
    reasons.push({ code: "unknown-severity", verdict: rule.modes.unknownSeverity, message: `${unknown.length} finding(s) of unknown severity`, ...top(unknown) });
  }
  return reasons;
}

function bySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** The deciding location: the first with the strictest verdict, and its strictest reason. */
function decidedByOf(locations: readonly LocationEvaluation[], verdict: Verdict): { index: number; decidedBy: DecidedBy } {
  const index = Math.max(0, locations.findIndex((l) => l.verdict === verdict));
  const loc = locations[index];
  const reason = loc?.reasons.find((r) => r.verdict === verdict);
  return {
    index,
    decidedBy: {
      ...(loc?.registry === undefined ? {} : { registry: loc.registry }),
      ...(loc?.repository === undefined ? {} : { repository: loc.repository }),
      rule: loc?.rule ?? "default",
      ...(reason === undefined ? {} : { code: reason.code }),
      message: reason?.message ?? "nothing in the policy objects"
    }
  };
}

function admissionHint(policy: Policy, mode: "pending" | "unknown", reference: VerdictReference | undefined): AdmissionHint {
  const rule = ruleFor(policy, reference);
  return { verdict: rule.modes[mode], rule: rule.name, mode };
}

/**
 * The answer for one record (an image or a platform manifest; use `decideIndex` for an index).
 * `record` undefined: never seen.
 */
export function decideRecord(policy: Policy, digest: string, record: ImageRecord | undefined, options: DecideOptions): Decision {
  const base = { digest, policyVersion: policy.version };
  if (record === undefined) return { status: "unknown", ...base, admission: admissionHint(policy, "unknown", options.reference) };
  if (!isRunnable(record)) {
    return { status: "not-an-image", ...base, reason: record.skipReason ?? "scanhook does not scan this kind of manifest" };
  }
  if (record.result === undefined && record.scan.state !== "failed" && record.scan.state !== "timeout") {
    return { status: "pending", ...base, scanState: record.scan.state, admission: admissionHint(policy, "pending", options.reference) };
  }
  const statements = policy.vex.length === 0 ? [] : vexStatementsFor(policy.vex, record.id);
  const work = placesOf(record, options).map((p) => evaluateLocation(policy, record, p, statements, options.now));
  const locations = work.map((w) => w.evaluation);
  const verdict = strictest(locations.map((l) => l.verdict));
  const { index, decidedBy } = decidedByOf(locations, verdict);
  const deciding = work[index];
  const exemptions = dedupe(work.flatMap((w) => w.exemptions), (e) => `${e.id}|${e.finding}|${e.repository ?? ""}|${e.digest ?? ""}`);
  const vex = dedupe(work.flatMap((w) => w.vex), (v) => `${v.document}|${v.finding}`);
  const validUntil = locations.reduce<string | undefined>((acc, l) => earliest(acc, l.validUntil), undefined);
  const result = record.result;
  const considered = deciding?.considered ?? [];
  return {
    status: "verdict",
    evaluation: {
      digest,
      verdict,
      decidedBy,
      locations,
      findings: { total: result?.findings.length ?? 0, considered: considered.length, bySeverity: bySeverity(considered), top: considered.slice(0, TOP_FINDINGS).map(summarize) },
      exemptions,
      vex,
      coverageGaps: result?.coverageGaps ?? [],
      policyVersion: policy.version,
      ...(result === undefined ? {} : { dbVersion: result.dbVersion, matchedAt: result.matchedAt, scannedAt: result.indexedAt }),
      scan: { state: record.scan.state, ...(record.scan.lastError === undefined ? {} : { lastError: record.scan.lastError }) },
      computedAt: options.now.toISOString(),
      ...(validUntil === undefined ? {} : { validUntil })
    }
  };
}

function dedupe<T>(list: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The answer for an index: the worst of its platforms (artifacts listed in it, such as buildx
 * attestations, are not platforms). A platform never scanned yet counts with the policy's
 * `pending` answer; the index is pending only while every platform is.
 */
export function decideIndex(policy: Policy, index: ImageRecord, children: readonly ImageRecord[], options: DecideOptions): Decision {
  const base = { digest: index.id, policyVersion: policy.version };
  const runnable = children.filter(isRunnable);
  const expected = (index.childDigests ?? []).length;
  if (runnable.length === 0 && expected > 0 && children.length === expected) {
    return { status: "not-an-image", ...base, reason: "the index lists no runnable platform manifest" };
  }
  const inherited = options.inheritedLocations ?? index.locations;
  const decisions = runnable.map((child) => ({ child, decision: decideRecord(policy, child.id, child, { ...options, inheritedLocations: inherited }) }));
  // A child not recorded yet (its record is written after the index's) is waiting too.
  const missing = expected - children.length;
  const decided = decisions.filter((d): d is { child: ImageRecord; decision: Extract<Decision, { status: "verdict" }> } => d.decision.status === "verdict");
  if (decided.length === 0) {
    return { status: "pending", ...base, scanState: runnable.length === 0 && missing > 0 ? "queued" : (runnable[0]?.scan.state ?? "queued"), admission: admissionHint(policy, "pending", options.reference) };
  }
  const pendingHint = admissionHint(policy, "pending", options.reference);
  const platforms: PlatformEvaluation[] = decisions.map(({ child, decision }) => {
    const platform = platformName(child.platform);
    if (decision.status === "verdict") {
      return { digest: child.id, platform, status: "verdict", verdict: decision.evaluation.verdict, decidedBy: decision.evaluation.decidedBy };
    }
    return {
      digest: child.id,
      platform,
      status: "pending",
      verdict: pendingHint.verdict,
      decidedBy: { rule: pendingHint.rule, code: "pending", message: "this platform has not been scanned yet" }
    };
  });
  const verdict = strictest(platforms.map((p) => p.verdict));
  const worst = platforms.find((p) => p.verdict === verdict) ?? platforms[0];
  const worstDecided = decided.find((d) => d.child.id === worst?.digest) ?? decided[0];
  const inner = worstDecided?.decision.evaluation;
  if (inner === undefined) throw new Error("unreachable: an index with decided platforms");
  // Locations: each location's strictest over the platforms, so the record's cache lists them.
  const locations = inner.locations.map((l) => {
    const verdicts = decided.map((d) => d.decision.evaluation.locations.find((x) => x.registry === l.registry && x.repository === l.repository)?.verdict ?? "allow");
    const pendingVerdicts = platforms.filter((p) => p.status === "pending").map((p) => p.verdict);
    return { ...l, verdict: strictest([...verdicts, ...pendingVerdicts]) };
  });
  const validUntil = decided.reduce<string | undefined>((acc, d) => earliest(acc, d.decision.evaluation.validUntil), undefined);
  const newest = decided.map((d) => d.decision.evaluation).reduce<Evaluation | undefined>((a, e) => (a === undefined || (e.matchedAt ?? "") > (a.matchedAt ?? "") ? e : a), undefined);
  const { validUntil: _inner, ...rest } = inner;
  return {
    status: "verdict",
    evaluation: {
      ...rest,
      digest: index.id,
      verdict,
      decidedBy: { ...(worst?.decidedBy ?? inner.decidedBy), ...(worst?.platform === undefined ? {} : { platform: worst.platform }) },
      locations,
      ...(newest?.dbVersion === undefined ? {} : { dbVersion: newest.dbVersion }),
      ...(newest?.matchedAt === undefined ? {} : { matchedAt: newest.matchedAt }),
      scan: { state: index.scan.state },
      platforms,
      ...(validUntil === undefined ? {} : { validUntil })
    }
  };
}

/** What is cached on the record: the answer per location, and what it depended on. */
export function cachedVerdictOf(evaluation: Evaluation): CachedVerdict {
  return {
    overall: evaluation.verdict,
    locations: evaluation.locations
      .filter((l): l is LocationEvaluation & { registry: string; repository: string } => l.registry !== undefined && l.repository !== undefined)
      .map((l) => ({ registry: l.registry, repository: l.repository, verdict: l.verdict })),
    policyVersion: evaluation.policyVersion,
    ...(evaluation.dbVersion === undefined || evaluation.matchedAt === undefined ? {} : { match: { dbVersion: evaluation.dbVersion, matchedAt: evaluation.matchedAt } }),
    computedAt: evaluation.computedAt,
    ...(evaluation.validUntil === undefined ? {} : { validUntil: evaluation.validUntil })
  };
}

/**
 * Whether the record's cached verdict still says what `next` says and depends on the same things
 * (policy version, match, locations, `validUntil`); `computedAt` alone never forces a write.
 */
export function sameCachedVerdict(current: CachedVerdict | undefined, next: CachedVerdict | undefined): boolean {
  if (current === undefined || next === undefined) return current === next;
  return (
    current.overall === next.overall &&
    current.policyVersion === next.policyVersion &&
    current.validUntil === next.validUntil &&
    current.match?.dbVersion === next.match?.dbVersion &&
    current.match?.matchedAt === next.match?.matchedAt &&
    current.locations.length === next.locations.length &&
    current.locations.every((l, i) => {
      const n = next.locations[i];
      return n !== undefined && n.registry === l.registry && n.repository === l.repository && n.verdict === l.verdict;
    })
  );
}

/** Whether a cached verdict can still be served as is at `now` under `policyVersion` (lists, stats). */
export function isCachedVerdictCurrent(cached: CachedVerdict, record: ImageRecord, policyVersion: string, now: Date): boolean {
  if (cached.policyVersion !== policyVersion) return false;
  if (cached.validUntil !== undefined && Date.parse(cached.validUntil) <= now.getTime()) return false;
  const r = record.result;
  if (r === undefined ? cached.match !== undefined : cached.match?.dbVersion !== r.dbVersion || cached.match.matchedAt !== r.matchedAt) return false;
  // A platform manifest without locations of its own is judged where its index lives: nothing to compare here.
  if (record.locationKeys.length === 0) return true;
  const keys = new Set(cached.locations.map((l) => `${l.registry}/${l.repository}`));
  return keys.size === record.locationKeys.length && record.locationKeys.every((k) => keys.has(k));
}
