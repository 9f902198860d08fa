import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUILTIN_DEFAULT_RULE, defaultPolicy, globToRegExp, parsePolicy, ruleFor, type PolicyParseResult } from "./policy.js";

const problems = (r: PolicyParseResult) => (r.ok ? [] : r.problems);

describe("policy documents", () => {
  it("the example file parses and its default rule is the built-in default", () => {
    const parsed = parsePolicy(readFileSync(new URL("../../policy.example.yaml", import.meta.url), "utf8"));
    expect(problems(parsed)).toEqual([]);
    if (!parsed.ok) return;
    expect(parsed.policy.defaultRule).toEqual(BUILTIN_DEFAULT_RULE);
    expect(parsed.policy.trustedRegistries).toBeUndefined();
  });

  it("an empty document is the built-in default", () => {
    const parsed = parsePolicy("");
    expect(parsed.ok && parsed.policy.defaultRule).toEqual(BUILTIN_DEFAULT_RULE);
    expect(parsed.ok && parsed.policy.version).toBe(defaultPolicy().version);
  });

  it("the version is a hash of the content: comments, spacing, key order and JSON vs YAML do not change it", () => {
    const a = parsePolicy("default:\n  maxSeverity: medium\n  fixableOnly: true\n");
    const b = parsePolicy("# a comment\ndefault: { fixableOnly: true,   maxSeverity: medium }\n");
    const c = parsePolicy(JSON.stringify({ default: { maxSeverity: "medium", fixableOnly: true } }));
    const d = parsePolicy("default:\n  maxSeverity: low\n  fixableOnly: true\n");
    if (!a.ok || !b.ok || !c.ok || !d.ok) throw new Error("expected valid documents");
    expect(a.policy.version).toMatch(/^sha256:[a-f0-9]{16}$/);
    expect(b.policy.version).toBe(a.policy.version);
    expect(c.policy.version).toBe(a.policy.version);
    expect(d.policy.version).not.toBe(a.policy.version);
  });

  it.each([
    ["a bad value", "default:\n  maxSeverity: severe\n", { line: 2, column: 16, field: "default.maxSeverity" }],
    ["an unknown field, at the key", "default:\n  fixable: true\n", { line: 2, column: 3, field: "default.fixable" }],
    ["a bad mode deep in a rule", "rules:\n  - repository: prod/*\n    modes:\n      coverage:\n        distro-eol: block\n", { line: 5, column: 21, field: "rules.0.modes.coverage.distro-eol" }],
    ["a rule without a location", "rules:\n  - name: x\n    maxSeverity: low\n", { line: 2, column: 5, field: "rules.0" }],
    ["an exemption without a reason", "exemptions:\n  - id: CVE-1\n    by: me\n    expires: 2027-01-01T00:00:00Z\n", { line: 2, column: 5, field: "exemptions.0.reason" }],
    ["a bad expiry", "exemptions:\n  - id: CVE-1\n    by: me\n    reason: r\n    expires: soon\n", { line: 5, column: 14, field: "exemptions.0.expires" }],
    ["a bad duration", "default:\n  maxMatchAge: 2 weeks\n", { line: 2, column: 16, field: "default.maxMatchAge" }],
    ["a score over 10", "default:\n  maxScore: 11\n", { line: 2, column: 13, field: "default.maxScore" }],
    ["a negative count", "default:\n  maxCounts: { high: -1 }\n", { line: 2, column: 22, field: "default.maxCounts.high" }],
    ["a VEX document that is not OpenVEX", "vex:\n  - { author: me }\n", { line: 2, column: 5, field: "vex.0.@context" }]
  ])("%s is reported with its line, column and field", (_name, text, expected) => {
    const found = problems(parsePolicy(text));
    expect(found[0]).toMatchObject(expected);
    expect(found[0]?.message.length).toBeGreaterThan(0);
  });

  it("YAML syntax errors and duplicate keys have a line", () => {
    expect(problems(parsePolicy("default:\n  maxSeverity: [high\n"))[0]?.line).toBeGreaterThan(0);
    const dup = problems(parsePolicy("default:\n  fixableOnly: true\n  fixableOnly: false\n"));
    expect(dup[0]).toMatchObject({ line: 3, field: "(document)" });
  });

  it("every problem is reported, not just the first", () => {
    const found = problems(parsePolicy("default:\n  maxSeverity: x\n  onViolation: y\n"));
    expect(found.map((p) => p.field).sort()).toEqual(["default.maxSeverity", "default.onViolation"]);
  });

  it("refuses a document over the size limit", () => {
    expect(problems(parsePolicy(`# ${"x".repeat(1_048_576)}\n`))[0]?.message).toMatch(/at most/);
  });

  it("rules: the first match wins, a rule overrides only what it names", () => {
    const parsed = parsePolicy(
      [
        "default: { fixableOnly: true, modes: { coverage: { distro-unknown: deny } } }",
        "rules:",
        "  - { name: prod, registry: '*.azurecr.io', repository: 'prod/**', maxSeverity: medium, modes: { coverage: { distro-eol: warn } } }",
        "  - { repository: 'prod/**', maxSeverity: low }"
      ].join("\n")
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const prod = ruleFor(parsed.policy, { registry: "myacr.azurecr.io", repository: "prod/web/api" });
    expect(prod.name).toBe("prod");
    expect(prod.maxSeverity).toBe("medium");
    expect(prod.fixableOnly).toBe(true);
    expect(prod.modes.coverage).toMatchObject({ "distro-eol": "warn", "distro-unknown": "deny", "ecosystem-no-data": "warn" });
    expect(ruleFor(parsed.policy, { registry: "ghcr.io", repository: "prod/x" }).name).toBe("rules[1]");
    expect(ruleFor(parsed.policy, { registry: "ghcr.io", repository: "dev/x" }).name).toBe("default");
  });

  it("globs: * stays in a segment, ** crosses them, ? is one character", () => {
    expect(globToRegExp("team/*").test("team/api")).toBe(true);
    expect(globToRegExp("team/*").test("team/api/v2")).toBe(false);
    expect(globToRegExp("team/**").test("team/api/v2")).toBe(true);
    expect(globToRegExp("*.azurecr.io").test("my.azurecr.io")).toBe(true);
    expect(globToRegExp("*.azurecr.io").test("myazurecr.io")).toBe(false);
    expect(globToRegExp("v?").test("v1")).toBe(true);
  });
});
