/**
 * The policy: one document (YAML or JSON — JSON is YAML) that turns a record's stored facts into
 * `allow`, `warn` or `deny` (DESIGN principle 3). This module parses and validates it, with every
 * error naming its line, column and field, and compiles it once into what `verdict.ts` evaluates.
 *
 * Shape (see `policy.example.yaml` for every field with its default and why):
 *
 *   trustedRegistries: [ "myacr.azurecr.io" ]   # absent or empty: every registry is trusted
 *   default: { maxSeverity, maxScore, maxCounts, fixableOnly, maxMatchAge, onViolation, modes }
 *   rules: [ { name?, registry?, repository?, …the same fields… } ]   # first match wins
 *   exemptions: [ { id, repository?, digest?, reason, by, expires } ]
 *   vex: [ <OpenVEX document>, … ]
 *
 * A rule only overrides what it names; the rest comes from `default`, then from the built-in
 * defaults below. The version is a hash of the parsed document (key order, comments and spacing
 * do not change it), so two instances loading the same policy agree on its version.
 */
import { createHash } from "node:crypto";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import { z } from "zod";
import { isDigest } from "./digest.js";
import { SeveritySchema, type Severity, type Verdict } from "./image-record.js";
import { OpenVexDocumentSchema, type OpenVexDocument } from "./openvex.js";

/** Severities from least to most severe; `unknown` is outside the order (it has its own mode). */
export const SEVERITY_ORDER = ["negligible", "low", "medium", "high", "critical"] as const;
export type RankedSeverity = (typeof SEVERITY_ORDER)[number];

export function severityRank(s: Severity): number {
  return (SEVERITY_ORDER as readonly string[]).indexOf(s);
}

const VERDICT_RANK: Record<Verdict, number> = { allow: 0, warn: 1, deny: 2 };
/** The strictest of the verdicts; `allow` for none. */
export function strictest(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = "allow";
  for (const v of verdicts) if (VERDICT_RANK[v] > VERDICT_RANK[worst]) worst = v;
  return worst;
}

/** Limits on the document, so a policy cannot make every verdict slow. */
export const POLICY_LIMITS = { bytes: 1_048_576, rules: 500, exemptions: 5_000, vexDocuments: 200, vexStatements: 10_000 } as const;

const Mode = z.enum(["allow", "warn", "deny"]);
const glob = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9._:/*?@-]+$/, { message: "a glob of letters, digits, . _ - : / @ and the wildcards * ** ?" });
/** `30m`, `12h`, `7d`: a duration in minutes, hours or days. */
const duration = z
  .string()
  .regex(/^[1-9][0-9]{0,5}[mhd]$/, { message: "a duration like 30m, 12h or 7d" })
  .transform((s) => Number(s.slice(0, -1)) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[s.slice(-1) as "m" | "h" | "d"]);
const time = z.iso.datetime({ offset: true, error: "expected an ISO-8601 time, e.g. 2026-12-31T00:00:00Z" });

const ModesSchema = z
  .object({
    /** A digest known but never scanned yet (the 202). */
    pending: Mode,
    /** A digest never seen (the 404). */
    unknown: Mode,
    /** A first scan that failed or timed out (no result at all). */
    failedScan: Mode,
    /** A finding whose severity the data does not give. */
    unknownSeverity: Mode,
    /** A workload naming the image by tag only. */
    tagOnly: Mode,
    /** The last match is older than `maxMatchAge`. */
    staleMatch: Mode,
    /** Per coverage-gap kind (`distro-eol`, `distro-unknown`, `ecosystem-no-data`, `binary-unreadable`, …). */
    coverage: z.record(z.string().min(1).max(100), Mode),
    /** A gap kind not named in `coverage`. */
    otherGaps: Mode
  })
  .partial()
  .strict();

const countLimits = z
  .object(Object.fromEntries(SeveritySchema.options.map((s) => [s, z.int().nonnegative()])) as Record<Severity, z.ZodInt>)
  .partial()
  .strict();

const ruleFields = {
  /** The highest severity allowed: findings above it break the rule. */
  maxSeverity: z.enum(SEVERITY_ORDER).optional(),
  /** Findings with a CVSS score above this break the rule. */
  maxScore: z.number().min(0).max(10).optional(),
  /** Most findings allowed per severity. */
  maxCounts: countLimits.optional(),
  /** Ignore findings that have no fixed version. */
  fixableOnly: z.boolean().optional(),
  /** Oldest the last match may be. */
  maxMatchAge: duration.optional(),
  /** What breaking a severity, score or count limit means. */
  onViolation: Mode.optional(),
  modes: ModesSchema.optional()
};

const RuleBodySchema = z.object(ruleFields).strict();
const RuleSchema = z
  .object({ name: z.string().min(1).max(100).optional(), registry: glob.optional(), repository: glob.optional(), ...ruleFields })
  .strict()
  .refine((r) => r.registry !== undefined || r.repository !== undefined, {
    message: "a rule needs registry or repository (or both); use `default` for everything"
  });

const ExemptionSchema = z
  .object({
    /** A vulnerability id; it also matches a finding that lists it as an alias or upstream id. */
    id: z.string().min(1).max(200),
    /** Only at repositories matching this glob (the repository path, without the registry). */
    repository: glob.optional(),
    digest: z.string().refine(isDigest, { message: "expected a digest (sha256:<64 lowercase hex>)" }).optional(),
    reason: z.string().min(1).max(1000),
    by: z.string().min(1).max(200),
    /** Stops applying at this moment, by itself. */
    expires: time
  })
  .strict();

export const PolicyDocumentSchema = z
  .object({
    trustedRegistries: z.array(glob).max(200).optional(),
    default: RuleBodySchema.optional(),
    rules: z.array(RuleSchema).max(POLICY_LIMITS.rules).optional(),
    exemptions: z.array(ExemptionSchema).max(POLICY_LIMITS.exemptions).optional(),
    vex: z.array(OpenVexDocumentSchema).max(POLICY_LIMITS.vexDocuments).optional()
  })
  .strict();
export type PolicyDocument = z.input<typeof PolicyDocumentSchema>;
type ParsedDocument = z.output<typeof PolicyDocumentSchema>;
export type PolicyMode = z.infer<typeof Mode>;

/** Every mode resolved: what a rule evaluates with. */
export interface EffectiveRule {
  /** `default`, the rule's name, or `rules[<index>]`. */
  readonly name: string;
  readonly maxSeverity: RankedSeverity | undefined;
  readonly maxScore: number | undefined;
  readonly maxCounts: Partial<Record<Severity, number>>;
  readonly fixableOnly: boolean;
  readonly maxMatchAgeMs: number | undefined;
  readonly onViolation: PolicyMode;
  readonly modes: {
    readonly pending: PolicyMode;
    readonly unknown: PolicyMode;
    readonly failedScan: PolicyMode;
    readonly unknownSeverity: PolicyMode;
    readonly tagOnly: PolicyMode;
    readonly staleMatch: PolicyMode;
    readonly coverage: Readonly<Record<string, PolicyMode>>;
    readonly otherGaps: PolicyMode;
  };
}

/**
 * The built-in defaults, used for whatever a policy leaves out (and as the whole policy when there
 * is none). Fail closed where scanhook knows nothing (never seen, never scanned, a failed first
 * scan, a distribution past all security support); warn where it knows something but not
 * everything (a gap in coverage, an unknown severity, a tag that may move, an old match), so a
 * cluster keeps running while the gaps are visible. README "Policy" gives the same table.
 */
export const BUILTIN_DEFAULT_RULE: EffectiveRule = {
  name: "default",
  maxSeverity: "high",
  maxScore: undefined,
  maxCounts: {},
  fixableOnly: false,
  maxMatchAgeMs: 7 * 86_400_000,
  onViolation: "deny",
  modes: {
    pending: "deny",
    unknown: "deny",
    failedScan: "deny",
    unknownSeverity: "warn",
    tagOnly: "warn",
    staleMatch: "warn",
    coverage: { "distro-eol": "deny", "distro-unknown": "warn", "ecosystem-no-data": "warn", "binary-unreadable": "warn", "no-vulnerability-db": "warn" },
    otherGaps: "warn"
  }
};

export interface CompiledRule {
  readonly registry: RegExp | undefined;
  readonly repository: RegExp | undefined;
  readonly effective: EffectiveRule;
}

export interface Exemption {
  readonly id: string;
  readonly repository: RegExp | undefined;
  readonly repositoryGlob: string | undefined;
  readonly digest: string | undefined;
  readonly reason: string;
  readonly by: string;
  readonly expires: string;
  readonly expiresMs: number;
}

/** A policy ready to evaluate: globs compiled, rules merged over the default. */
export interface Policy {
  /** `sha256:<16 hex>` of the parsed document. */
  readonly version: string;
  readonly trustedRegistries: readonly RegExp[] | undefined;
  readonly defaultRule: EffectiveRule;
  readonly rules: readonly CompiledRule[];
  readonly exemptions: readonly Exemption[];
  readonly vex: readonly OpenVexDocument[];
  /** The parsed document, as `GET /api/policy` shows it. */
  readonly document: ParsedDocument;
}

/** One problem with a policy document: where it is and which field. */
export interface PolicyProblem {
  /** 1-based; absent when the document has no position for it. */
  readonly line?: number;
  readonly column?: number;
  /** Dotted path, e.g. `rules.2.maxSeverity`; `(document)` for the whole. */
  readonly field: string;
  readonly message: string;
}

export type PolicyParseResult = { readonly ok: true; readonly policy: Policy } | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

/**
 * `*` matches within a path segment, `**` across segments, `?` one character. Anchored: the glob
 * must match the whole registry or repository.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*" && pattern[i + 1] === "*") {
      out += ".*";
      i++;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

function merge(base: EffectiveRule, name: string, over: z.output<typeof RuleBodySchema>): EffectiveRule {
  const modes = over.modes ?? {};
  return {
    name,
    maxSeverity: over.maxSeverity ?? base.maxSeverity,
    maxScore: over.maxScore ?? base.maxScore,
    maxCounts: { ...base.maxCounts, ...(over.maxCounts ?? {}) },
    fixableOnly: over.fixableOnly ?? base.fixableOnly,
    maxMatchAgeMs: over.maxMatchAge ?? base.maxMatchAgeMs,
    onViolation: over.onViolation ?? base.onViolation,
    modes: {
      pending: modes.pending ?? base.modes.pending,
      unknown: modes.unknown ?? base.modes.unknown,
      failedScan: modes.failedScan ?? base.modes.failedScan,
      unknownSeverity: modes.unknownSeverity ?? base.modes.unknownSeverity,
      tagOnly: modes.tagOnly ?? base.modes.tagOnly,
      staleMatch: modes.staleMatch ?? base.modes.staleMatch,
      coverage: { ...base.modes.coverage, ...(modes.coverage ?? {}) },
      otherGaps: modes.otherGaps ?? base.modes.otherGaps
    }
  };
}

/** JSON with object keys sorted, so the version does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The version of a document: a hash of its parsed content (before defaults are applied). */
export function policyVersionOf(input: unknown): string {
  return `sha256:${createHash("sha256").update(canonical(input)).digest("hex").slice(0, 16)}`;
}

/** Compiles an already-validated document. */
export function compilePolicy(doc: ParsedDocument, raw: unknown): Policy {
  const defaultRule = merge(BUILTIN_DEFAULT_RULE, "default", doc.default ?? {});
  const rules = (doc.rules ?? []).map((r, i) => {
    const { name, registry, repository, ...body } = r;
    return {
      registry: registry === undefined ? undefined : globToRegExp(registry),
      repository: repository === undefined ? undefined : globToRegExp(repository),
      effective: merge(defaultRule, name ?? `rules[${i}]`, body)
    };
  });
  const trusted = doc.trustedRegistries;
  return {
    version: policyVersionOf(raw),
    trustedRegistries: trusted === undefined || trusted.length === 0 ? undefined : trusted.map(globToRegExp),
    defaultRule,
    rules,
    exemptions: (doc.exemptions ?? []).map((e) => ({
      id: e.id,
      repository: e.repository === undefined ? undefined : globToRegExp(e.repository),
      repositoryGlob: e.repository,
      digest: e.digest,
      reason: e.reason,
      by: e.by,
      expires: new Date(e.expires).toISOString(),
      expiresMs: Date.parse(e.expires)
    })),
    vex: doc.vex ?? [],
    document: doc
  };
}

/** The policy used when none is stored: the built-in defaults alone. */
export const EMPTY_POLICY_DOCUMENT: PolicyDocument = {};
export function defaultPolicy(): Policy {
  return compilePolicy(PolicyDocumentSchema.parse(EMPTY_POLICY_DOCUMENT), EMPTY_POLICY_DOCUMENT);
}

/** The rule for a location: the first rule whose globs match, else the default. */
export function ruleFor(policy: Policy, location: { registry: string; repository: string } | undefined): EffectiveRule {
  if (location === undefined) return policy.defaultRule;
  for (const r of policy.rules) {
    if (r.registry !== undefined && !r.registry.test(location.registry)) continue;
    if (r.repository !== undefined && !r.repository.test(location.repository)) continue;
    return r.effective;
  }
  return policy.defaultRule;
}

/**
 * Parses a policy document (YAML 1.2 or JSON). Never throws: a bad document gives every problem
 * found, each with its line and column in the text and the field's path.
 */
export function parsePolicy(text: string): PolicyParseResult {
  if (Buffer.byteLength(text, "utf8") > POLICY_LIMITS.bytes) {
    return { ok: false, problems: [{ field: "(document)", message: `a policy is at most ${POLICY_LIMITS.bytes} bytes` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.slice(0, 20).map((e) => {
        const pos = e.linePos?.[0];
        return { ...(pos === undefined ? {} : { line: pos.line, column: pos.col }), field: "(document)", message: e.message.split("\n")[0] ?? e.code };
      })
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return { ok: false, problems: [{ field: "(document)", message: (e as Error).message }] };
  }
  const parsed = PolicyDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.slice(0, 50).map((issue) => {
        const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
        // An unknown key is reported on its parent; point at the key itself.
        const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
        const target = keys.length > 0 ? [...path, keys[0] ?? ""] : path;
        const pos = positionOf(doc.contents, target, lineCounter, keys.length > 0);
        const field = target.length === 0 ? "(document)" : target.map(String).join(".");
        return { ...pos, field, message: keys.length > 0 ? `unknown field ${keys.map((k) => JSON.stringify(k)).join(", ")}` : issue.message };
      })
    };
  }
  return { ok: true, policy: compilePolicy(parsed.data, raw) };
}

/** Line and column of the deepest node on `path` (the key itself when `atKey`). */
function positionOf(root: unknown, path: readonly PropertyKey[], lc: LineCounter, atKey: boolean): { line?: number; column?: number } {
  let node: unknown = root;
  let at: YamlNode | undefined = isNode(root) ? root : undefined;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === step);
      if (pair === undefined) break;
      if (last && atKey && isNode(pair.key)) {
        at = pair.key;
        break;
      }
      node = pair.value;
      if (isNode(pair.value)) at = pair.value;
      else if (isNode(pair.key)) at = pair.key;
    } else if (isSeq(node) && typeof step === "number") {
      const item: unknown = node.items[step];
      if (item === undefined) break;
      node = item;
      if (isNode(item)) at = item;
    } else break;
  }
  const offset = at?.range?.[0];
  if (offset === undefined) return {};
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function isNode(v: unknown): v is YamlNode {
  return typeof v === "object" && v !== null && "range" in v;
}
