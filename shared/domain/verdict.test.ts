import { describe, expect, it } from "vitest";
import { digestOf, finding, record, result, T0 } from "../../test/verdicts/records.js";
import type { Finding, ImageRecord } from "./image-record.js";
import { parsePolicy, type Policy } from "./policy.js";
import { cachedVerdictOf, decideIndex, decideRecord, isCachedVerdictCurrent, sameCachedVerdict, type Decision, type Evaluation, type VerdictReference } from "./verdict.js";

function policy(text: string): Policy {
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.policy;
}

function evaluation(d: Decision): Evaluation {
  if (d.status !== "verdict") throw new Error(`expected a verdict, got ${d.status}`);
  return d.evaluation;
}

const at = (iso: string) => new Date(iso);
const decide = (p: Policy, r: ImageRecord, now = T0, reference?: VerdictReference) =>
  decideRecord(p, r.id, r, { now, ...(reference === undefined ? {} : { reference }) });
const verdictOf = (p: Policy, r: ImageRecord, now = T0, reference?: VerdictReference) => evaluation(decide(p, r, now, reference)).verdict;

describe("verdicts: one rule kind at a time", () => {
  // Each row: a policy, the findings and gaps of one image, the verdict and the deciding code.
  it.each<[string, string, Parameters<typeof result>, "allow" | "warn" | "deny", string | undefined]>([
    ["no findings", "", [[]], "allow", undefined],
    ["a high finding under the default (max high)", "", [[finding("CVE-1", { severity: "high" })]], "allow", undefined],
    ["a critical finding breaks max high", "", [[finding("CVE-1", { severity: "critical" })]], "deny", "max-severity"],
    ["maxSeverity low: a medium breaks", "default: { maxSeverity: low }", [[finding("CVE-1", { severity: "medium" })]], "deny", "max-severity"],
    ["maxSeverity critical allows everything", "default: { maxSeverity: critical }", [[finding("CVE-1", { severity: "critical" })]], "allow", undefined],
    ["onViolation warn", "default: { onViolation: warn }", [[finding("CVE-1", { severity: "critical" })]], "warn", "max-severity"],
    ["maxScore: above breaks", "default: { maxSeverity: critical, maxScore: 7 }", [[finding("CVE-1", { score: 7.5 })]], "deny", "max-score"],
    ["maxScore: at the limit passes", "default: { maxSeverity: critical, maxScore: 7.5 }", [[finding("CVE-1", { score: 7.5 })]], "allow", undefined],
    ["maxScore: no score is not judged by score", "default: { maxSeverity: critical, maxScore: 1 }", [[finding("CVE-1")]], "allow", undefined],
    ["maxCounts: over the count", "default: { maxCounts: { high: 1 } }", [[finding("CVE-1"), finding("CVE-2")]], "deny", "max-count"],
    ["maxCounts: at the count", "default: { maxCounts: { high: 2 } }", [[finding("CVE-1"), finding("CVE-2")]], "allow", undefined],
    ["fixableOnly ignores unfixable findings", "default: { fixableOnly: true }", [[finding("CVE-1", { severity: "critical", fixable: false })]], "allow", undefined],
    ["fixableOnly keeps fixable ones", "default: { fixableOnly: true }", [[finding("CVE-1", { severity: "critical" })]], "deny", "max-severity"],
    ["unknown severity warns by default", "", [[finding("CVE-1", { severity: "unknown" })]], "warn", "unknown-severity"],
    ["unknown severity: deny", "default: { modes: { unknownSeverity: deny } }", [[finding("CVE-1", { severity: "unknown" })]], "deny", "unknown-severity"],
    ["unknown severity: allow", "default: { modes: { unknownSeverity: allow } }", [[finding("CVE-1", { severity: "unknown" })]], "allow", undefined],
    ["distro-eol denies by default", "", [[], {}, [{ kind: "distro-eol", detail: "Debian 9" }]], "deny", "coverage-gap"],
    ["distro-unknown warns by default", "", [[], {}, [{ kind: "distro-unknown", detail: "" }]], "warn", "coverage-gap"],
    ["ecosystem-no-data warns by default", "", [[], {}, [{ kind: "ecosystem-no-data", detail: "Hex" }]], "warn", "coverage-gap"],
    ["binary-unreadable warns by default", "", [[], {}, [{ kind: "binary-unreadable", detail: "/app" }]], "warn", "coverage-gap"],
    ["a gap kind set to allow", "default: { modes: { coverage: { distro-eol: allow } } }", [[], {}, [{ kind: "distro-eol", detail: "" }]], "allow", undefined],
    ["an unlisted gap kind takes otherGaps", "default: { modes: { otherGaps: deny } }", [[], {}, [{ kind: "something-new", detail: "" }]], "deny", "coverage-gap"],
    ["a stale match warns by default", "", [[], { matchedAt: "2026-11-01T00:00:00.000Z" }], "warn", "stale-match"],
    ["a stale match: deny", "default: { maxMatchAge: 1d, modes: { staleMatch: deny } }", [[], { matchedAt: "2026-11-22T09:00:00.000Z" }], "deny", "stale-match"]
  ])("%s", (_name, text, args, verdict, code) => {
    const e = evaluation(decide(policy(text), record("img", { result: result(...args) })));
    expect(e.verdict).toBe(verdict);
    expect(e.decidedBy.code).toBe(code);
  });

  it("says why: the rule, the findings that broke it (worst first, at most 10), the DB and scan time", () => {
    const findings = Array.from({ length: 12 }, (_, i) => finding(`CVE-${i}`, { severity: i % 2 === 0 ? "critical" : "high", score: i }));
    const e = evaluation(decide(policy("default: { maxSeverity: medium }"), record("img", { result: result(findings) })));
    const reason = e.locations[0]?.reasons[0];
    expect(reason?.code).toBe("max-severity");
    expect(reason?.count).toBe(12);
    expect(reason?.findings).toHaveLength(10);
    expect(reason?.findings?.[0]).toMatchObject({ id: "CVE-10", severity: "critical", score: 10 });
    expect(e.decidedBy).toMatchObject({ registry: "myacr.azurecr.io", repository: "team/api", rule: "default", code: "max-severity" });
    expect(e).toMatchObject({ dbVersion: "db-1", matchedAt: T0.toISOString(), scannedAt: T0.toISOString(), policyVersion: expect.stringMatching(/^sha256:/) });
    expect(e.findings).toMatchObject({ total: 12, considered: 12, bySeverity: { critical: 6, high: 6, medium: 0 } });
  });
});

describe("exemptions", () => {
  const text = (extra = "") => `exemptions:\n  - { id: CVE-9, reason: not reachable, by: alice, expires: "2026-12-01T00:00:00Z"${extra} }\n`;
  const critical = (over = {}) => record("img", { result: result([finding("GHSA-aaaa", { severity: "critical", ...over })]) });

  it.each<[string, Partial<Finding>]>([
    ["by its id", { id: "CVE-9" }],
    ["by an alias", { aliases: ["CVE-9"] }],
    ["by an upstream id", { upstreamIds: ["CVE-9"] }]
  ])("apply %s and are listed", (_name, over) => {
    const e = evaluation(decide(policy(text()), critical(over)));
    expect(e.verdict).toBe("allow");
    expect(e.exemptions).toEqual([{ id: "CVE-9", finding: over.id ?? "GHSA-aaaa", reason: "not reachable", by: "alice", expires: "2026-12-01T00:00:00.000Z" }]);
  });

  it("stop applying when they expire, and validUntil is the expiry", () => {
    const p = policy(`default: { maxMatchAge: 30d }\n${text()}`);
    const r = critical({ aliases: ["CVE-9"] });
    const before = evaluation(decide(p, r, at("2026-11-30T23:59:59.000Z")));
    expect(before.verdict).toBe("allow");
    expect(before.validUntil).toBe("2026-12-01T00:00:00.000Z");
    const after = evaluation(decide(p, r, at("2026-12-01T00:00:00.000Z")));
    expect(after.verdict).toBe("deny");
    expect(after.exemptions).toEqual([]);
  });

  it("validUntil is the earlier of an exemption's expiry and the match growing too old", () => {
    const p = policy(text().replace("2026-12-01", "2027-06-01"));
    const e = evaluation(decide(p, critical({ aliases: ["CVE-9"] })));
    expect(e.validUntil).toBe("2026-11-30T10:00:00.000Z");
    expect(evaluation(decide(p, record("clean", { result: result([]) }))).validUntil).toBe("2026-11-30T10:00:00.000Z");
  });

  it("scoped to a repository glob or a digest", () => {
    const r = record("img", { locations: [{ registry: "myacr.azurecr.io", repository: "team/api" }, { registry: "myacr.azurecr.io", repository: "other/api" }], result: result([finding("CVE-9", { severity: "critical" })]) });
    const byRepo = evaluation(decide(policy(text(", repository: 'team/*'")), r));
    expect(byRepo.locations.map((l) => [l.repository, l.verdict])).toEqual([["team/api", "allow"], ["other/api", "deny"]]);
    expect(byRepo.verdict).toBe("deny");
    expect(verdictOf(policy(text(`, digest: "${r.id}"`)), r)).toBe("allow");
    expect(verdictOf(policy(text(`, digest: "${digestOf("other")}"`)), r)).toBe("deny");
  });
});

describe("OpenVEX", () => {
  const vexDoc = (digestRef: string, status: string, extra: Record<string, unknown> = {}) => ({
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://example.com/vex/1",
    author: "Security Team",
    timestamp: "2026-11-01T00:00:00Z",
    version: 1,
    statements: [{ vulnerability: { name: "CVE-7", aliases: ["GHSA-7777"] }, products: [{ "@id": digestRef, ...extra }], status, justification: "vulnerable_code_not_in_execute_path" }]
  });
  const img = record("img", { result: result([finding("GHSA-7777", { severity: "critical" }), finding("CVE-8", { severity: "critical" })]) });
  const hex = img.id.slice("sha256:".length);
  const withVex = (...docs: unknown[]) => policy(JSON.stringify({ vex: docs }));

  it.each([
    ["a pkg:oci purl pinned to the digest", `pkg:oci/api@sha256%3A${hex}?repository_url=myacr.azurecr.io/team/api`],
    ["a reference pinned to the digest", `myacr.azurecr.io/team/api@${img.id}`],
    ["the bare digest", img.id]
  ])("not_affected for %s removes the finding", (_name, ref) => {
    const e = evaluation(decide(withVex(vexDoc(ref, "not_affected")), img));
    expect(e.vex).toEqual([{ document: "https://example.com/vex/1", vulnerability: "GHSA-7777", finding: "GHSA-7777", status: "not_affected", justification: "vulnerable_code_not_in_execute_path" }]);
    expect(e.locations[0]?.reasons[0]?.findings?.map((f) => f.id)).toEqual(["CVE-8"]);
  });

  it("fixed removes it too; affected and under_investigation do not; another digest's statement does not", () => {
    expect(evaluation(decide(withVex(vexDoc(img.id, "fixed")), img)).findings.considered).toBe(1);
    expect(evaluation(decide(withVex(vexDoc(img.id, "affected")), img)).findings.considered).toBe(2);
    expect(evaluation(decide(withVex(vexDoc(img.id, "under_investigation")), img)).findings.considered).toBe(2);
    expect(evaluation(decide(withVex(vexDoc(digestOf("other"), "not_affected")), img)).findings.considered).toBe(2);
  });

  it("the latest statement decides; subcomponents limit it to their packages", () => {
    const later = { ...vexDoc(img.id, "affected"), "@id": "https://example.com/vex/2", timestamp: "2026-11-10T00:00:00Z" };
    expect(evaluation(decide(withVex(vexDoc(img.id, "not_affected"), later), img)).findings.considered).toBe(2);
    const onOpenssl = vexDoc(img.id, "not_affected", { subcomponents: [{ "@id": "pkg:deb/debian/openssl@3.0.11-1" }] });
    expect(evaluation(decide(withVex(onOpenssl), img)).findings.considered).toBe(1);
    const onZlib = vexDoc(img.id, "not_affected", { subcomponents: [{ "@id": "pkg:deb/debian/zlib@1.2" }] });
    expect(evaluation(decide(withVex(onZlib), img)).findings.considered).toBe(2);
  });
});

describe("locations", () => {
  const twoRepos = record("img", {
    locations: [{ registry: "myacr.azurecr.io", repository: "prod/api" }, { registry: "myacr.azurecr.io", repository: "dev/api" }],
    result: result([finding("CVE-1", { severity: "high" })])
  });
  const p = policy("rules:\n  - { name: prod, repository: 'prod/**', maxSeverity: medium }\n");

  it("per-repository rules on a digest in two repositories: each its own, the digest the strictest", () => {
    const e = evaluation(decide(p, twoRepos));
    expect(e.locations.map((l) => [l.repository, l.rule, l.verdict])).toEqual([["prod/api", "prod", "deny"], ["dev/api", "default", "allow"]]);
    expect(e.verdict).toBe("deny");
    expect(e.decidedBy).toMatchObject({ repository: "prod/api", rule: "prod" });
  });

  it("a caller naming a reference gets that location's verdict, even one the record does not list", () => {
    expect(verdictOf(p, twoRepos, T0, { registry: "myacr.azurecr.io", repository: "dev/api" })).toBe("allow");
    expect(verdictOf(p, twoRepos, T0, { registry: "myacr.azurecr.io", repository: "prod/api" })).toBe("deny");
    const elsewhere = evaluation(decide(p, twoRepos, T0, { registry: "myacr.azurecr.io", repository: "prod/other" }));
    expect(elsewhere.locations).toMatchObject([{ repository: "prod/other", known: false, verdict: "deny" }]);
  });

  it("trusted registries: any other registry is denied", () => {
    const t = policy("trustedRegistries: ['*.azurecr.io']\n");
    const clean = record("img", { locations: [{ registry: "myacr.azurecr.io", repository: "a" }, { registry: "docker.io", repository: "library/nginx" }], result: result([]) });
    const e = evaluation(decide(t, clean));
    expect(e.locations.map((l) => l.verdict)).toEqual(["allow", "deny"]);
    expect(e.decidedBy).toMatchObject({ registry: "docker.io", code: "untrusted-registry" });
    expect(verdictOf(t, clean, T0, { registry: "myacr.azurecr.io", repository: "a" })).toBe("allow");
  });

  it.each([
    ["by tag only: the default warns", "", { tag: "v1" }, "warn"],
    ["by tag only: deny", "default: { modes: { tagOnly: deny } }", { tag: "v1" }, "deny"],
    ["by tag only: allow", "default: { modes: { tagOnly: allow } }", { tag: "v1" }, "allow"],
    ["by tag and digest", "default: { modes: { tagOnly: deny } }", { tag: "v1", digest: "x" }, "allow"],
    ["by repository alone", "default: { modes: { tagOnly: deny } }", {}, "allow"]
  ])("tag-only references, %s", (_name, text, ref, expected) => {
    const clean = record("img", { result: result([]) });
    expect(verdictOf(policy(text), clean, T0, { registry: "myacr.azurecr.io", repository: "team/api", ...ref })).toBe(expected);
  });
});

describe("scan states (DESIGN principle 4)", () => {
  const p = policy("");

  it("never seen: unknown, with what admission does", () => {
    expect(decideRecord(p, digestOf("x"), undefined, { now: T0 })).toMatchObject({ status: "unknown", admission: { verdict: "deny", mode: "unknown" } });
    const lenient = policy("default: { modes: { unknown: warn, pending: allow } }");
    expect(decideRecord(lenient, digestOf("x"), undefined, { now: T0 })).toMatchObject({ admission: { verdict: "warn" } });
  });

  it.each(["queued", "scanning"] as const)("%s without a result is pending", (state) => {
    expect(decide(p, record("img", { state }))).toMatchObject({ status: "pending", scanState: state, admission: { verdict: "deny", mode: "pending" } });
  });

  it.each(["queued", "scanning", "failed", "timeout"] as const)("a rescan (%s) keeps the last result's verdict", (state) => {
    const r = record("img", { result: result([finding("CVE-1", { severity: "critical" })]), state });
    expect(verdictOf(p, r)).toBe("deny");
  });

  it.each([
    ["failed", "", "deny"],
    ["timeout", "", "deny"],
    ["failed", "default: { modes: { failedScan: warn } }", "warn"]
  ] as const)("a %s first scan gets the policy's failedScan answer with the cause", (state, text, verdict) => {
    const e = evaluation(decide(policy(text), record("img", { state, lastError: { code: "REGISTRY.UNAUTHORIZED", message: "401 from myacr" } })));
    expect(e.verdict).toBe(verdict);
    expect(e.decidedBy.code).toBe("failed-scan");
    expect(e.locations[0]?.reasons[0]?.cause).toMatchObject({ code: "REGISTRY.UNAUTHORIZED" });
    expect(cachedVerdictOf(e).match).toBeUndefined();
  });

  it("a skipped artifact is not an image", () => {
    const a = record("sig", { kind: "artifact", skipReason: "a cosign signature", state: "skipped" });
    expect(decide(p, a)).toMatchObject({ status: "not-an-image", reason: "a cosign signature" });
  });
});

describe("indexes", () => {
  const p = policy("");
  const child = (name: string, arch: string, o: Parameters<typeof record>[1]) => ({ ...record(name, { ...o, locations: [] }), platform: { os: "linux", architecture: arch } });
  const amd = child("amd", "amd64", { result: result([]) });
  const arm = child("arm", "arm64", { result: result([finding("CVE-1", { severity: "critical" })]) });
  const att = { ...record("att", { kind: "artifact", skipReason: "buildx attestation", state: "skipped", locations: [] }) };
  const index: ImageRecord = { ...record("idx", {}), kind: "index", scan: { ...record("idx").scan, state: "done" }, childDigests: [amd.id, arm.id, att.id] };

  it("the worst of its platforms, judged at the index's locations; attestations are not platforms", () => {
    const e = evaluation(decideIndex(p, index, [amd, arm, att], { now: T0 }));
    expect(e.verdict).toBe("deny");
    expect(e.decidedBy).toMatchObject({ platform: "linux/arm64", code: "max-severity", repository: "team/api" });
    expect(e.platforms?.map((x) => [x.platform, x.verdict])).toEqual([["linux/amd64", "allow"], ["linux/arm64", "deny"]]);
    expect(e.locations).toMatchObject([{ registry: "myacr.azurecr.io", repository: "team/api", verdict: "deny" }]);
  });

  it("pending while every platform is; a platform not scanned yet counts as the pending answer", () => {
    const waiting = child("arm", "arm64", {});
    expect(decideIndex(p, index, [child("amd", "amd64", {}), waiting, att], { now: T0 }).status).toBe("pending");
    const e = evaluation(decideIndex(policy("default: { modes: { pending: warn } }"), index, [amd, waiting, att], { now: T0 }));
    expect(e.verdict).toBe("warn");
    expect(e.platforms?.find((x) => x.status === "pending")?.decidedBy.code).toBe("pending");
  });
});

describe("the cache on the record", () => {
  const p = policy("");
  const r = record("img", { result: result([finding("CVE-1", { severity: "critical" })]) });

  it("holds the overall and per-location answers with what they depended on", () => {
    const cached = cachedVerdictOf(evaluation(decide(p, r)));
    expect(cached).toEqual({
      overall: "deny",
      locations: [{ registry: "myacr.azurecr.io", repository: "team/api", verdict: "deny" }],
      policyVersion: p.version,
      match: { dbVersion: "db-1", matchedAt: T0.toISOString() },
      computedAt: T0.toISOString(),
      validUntil: "2026-11-30T10:00:00.000Z"
    });
    const withCache = { ...r, verdict: cached };
    expect(isCachedVerdictCurrent(cached, withCache, p.version, T0)).toBe(true);
    expect(isCachedVerdictCurrent(cached, withCache, "sha256:other", T0)).toBe(false);
    expect(isCachedVerdictCurrent(cached, withCache, p.version, at("2026-11-30T10:00:00.000Z"))).toBe(false);
    expect(isCachedVerdictCurrent(cached, { ...withCache, result: result([], { matchedAt: "2026-11-24T00:00:00.000Z" }) }, p.version, T0)).toBe(false);
    const later = cachedVerdictOf(evaluation(decide(p, r, at("2026-11-24T00:00:00.000Z"))));
    expect(sameCachedVerdict(cached, later)).toBe(true);
  });
});
