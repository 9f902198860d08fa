/**
 * Renderings of a match for people and tools: a table that fits 80 columns, JSON, SARIF 2.1.0
 * (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html) and CycloneDX 1.5 with
 * `vulnerabilities` (https://cyclonedx.org/docs/1.5/json/#vulnerabilities).
 */
import { randomUUID } from "node:crypto";
import type { CoverageGap, Severity } from "../domain/image-record.js";
import type { InstalledPackage } from "../domain/package.js";
import { VERSION } from "../version.js";
import { countBySeverity, type DetailedFinding } from "./match/matcher.js";

export interface ScanReport {
  readonly target: string;
  readonly dbVersion: string;
  readonly matchedAt: string;
  readonly findings: readonly DetailedFinding[];
  readonly coverageGaps: readonly CoverageGap[];
  readonly packages: readonly InstalledPackage[];
}

export interface FindingFilter {
  readonly severities?: ReadonlySet<Severity>;
  readonly ignoreUnfixed?: boolean;
}

export function filterFindings(findings: readonly DetailedFinding[], filter: FindingFilter): DetailedFinding[] {
  return findings.filter((f) => (filter.severities === undefined || filter.severities.has(f.severity)) && (filter.ignoreUnfixed !== true || f.fixable));
}

function cell(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

/** Lines of at most `width` (≥ 80) columns: findings, then the counts of distinct vulnerabilities, then coverage gaps. */
export function renderTable(report: ScanReport, width = 80): string[] {
  const w = { sev: 8, id: 19, pkg: 20, ver: 14, fix: 14 };
  const extra = Math.max(0, width - 80);
  w.pkg += Math.floor(extra / 2);
  w.id += extra - Math.floor(extra / 2);
  const row = (a: string, b: string, c: string, d: string, e: string): string => [cell(a, w.sev), cell(b, w.id), cell(c, w.pkg), cell(d, w.ver), cell(e, w.fix)].join(" ").trimEnd();
  const out = [`${report.target}  (DB ${report.dbVersion})`, ""];
  if (report.findings.length === 0) out.push("No findings.");
  else {
    out.push(row("SEVERITY", "VULNERABILITY", "PACKAGE", "INSTALLED", "FIXED IN"));
    for (const f of report.findings) {
      out.push(row(f.severity.toUpperCase(), f.id, f.sourcePackage === undefined ? f.packageName : `${f.packageName} (${f.sourcePackage})`, f.packageVersion, f.fixedVersion ?? "no fix"));
    }
  }
  const counts = countBySeverity(report.findings);
  const total = new Set(report.findings.map((f) => f.id)).size;
  out.push("", cell(`${total} vulnerabilities: ${Object.entries(counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ") || "none"}`, width).trimEnd());
  if (report.coverageGaps.length > 0) {
    out.push("", "Not assessed (coverage gaps):");
    for (const g of report.coverageGaps) {
      const words = `- ${g.kind}: ${g.detail}`.split(" ");
      let line = "";
      for (const word of words) {
        if (line !== "" && line.length + 1 + word.length > width) {
          out.push(line);
          line = `    ${word}`;
        } else line = line === "" ? word : `${line} ${word}`;
      }
      if (line !== "") out.push(line.length > width ? cell(line, width) : line);
    }
  }
  return out;
}

export function renderJson(report: ScanReport): string {
  const { packages: _packages, ...rest } = report;
  return JSON.stringify({ ...rest, counts: countBySeverity(report.findings) }, null, 2);
}

const SARIF_LEVEL: Record<Severity, "error" | "warning" | "note" | "none"> = { critical: "error", high: "error", medium: "warning", low: "note", negligible: "note", unknown: "warning" };

export function renderSarif(report: ScanReport): object {
  const rules = new Map<string, DetailedFinding>();
  for (const f of report.findings) if (!rules.has(f.id)) rules.set(f.id, f);
  const ruleIds = [...rules.keys()];
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "scanhook",
            version: VERSION,
            rules: ruleIds.map((id) => {
              const f = rules.get(id) as DetailedFinding;
              return {
                id,
                shortDescription: { text: f.summary ?? id },
                ...(f.references[0] === undefined ? {} : { helpUri: f.references[0] }),
                properties: { tags: ["security", "vulnerability"], ...(f.score === undefined ? {} : { "security-severity": f.score.toFixed(1) }) }
              };
            })
          }
        },
        results: report.findings.map((f) => ({
          ruleId: f.id,
          ruleIndex: ruleIds.indexOf(f.id),
          level: SARIF_LEVEL[f.severity],
          message: {
            text: `${f.packageName} ${f.packageVersion} is affected by ${f.id} (${f.severity})${f.fixedVersion === undefined ? "; no fix yet" : `; fixed in ${f.fixedVersion}`}`
          },
          locations: [{ physicalLocation: { artifactLocation: { uri: report.target.replace(/^sbom:/, "") } }, logicalLocations: [{ name: f.purl ?? f.packageName, kind: "package" }] }],
          properties: { ecosystem: f.ecosystem, aliases: f.aliases, upstreamIds: f.upstreamIds, severitySource: f.severitySource }
        })),
        properties: { dbVersion: report.dbVersion, matchedAt: report.matchedAt, coverageGaps: report.coverageGaps }
      }
    ]
  };
}

const CDX_SEVERITY: Record<Severity, string> = { critical: "critical", high: "high", medium: "medium", low: "low", negligible: "info", unknown: "unknown" };

export function renderCycloneDx(report: ScanReport): object {
  const refOf = new Map<InstalledPackage, string>();
  const components = report.packages.map((p, i) => {
    const ref = `pkg-${i + 1}`;
    refOf.set(p, ref);
    return { type: "library", "bom-ref": ref, name: p.name, version: p.version, ...(p.purl === "" ? {} : { purl: p.purl }) };
  });
  const refFor = (f: DetailedFinding): string | undefined => {
    for (const [p, ref] of refOf) if (p.name === f.packageName && p.version === f.packageVersion && (f.purl === undefined || p.purl === f.purl)) return ref;
    return undefined;
  };
  const byId = new Map<string, DetailedFinding[]>();
  for (const f of report.findings) byId.set(f.id, [...(byId.get(f.id) ?? []), f]);
  const vulnerabilities = [...byId.entries()].map(([id, list], i) => {
    const f = list[0] as DetailedFinding;
    const fixes = [...new Set(list.map((x) => x.fixedVersion).filter((v): v is string => v !== undefined))];
    return {
      "bom-ref": `vuln-${i + 1}`,
      id,
      source: { name: "OSV", url: `https://osv.dev/vulnerability/${encodeURIComponent(f.records[0] ?? id)}` },
      ...(f.aliases.length + f.upstreamIds.length === 0 ? {} : { references: [...f.aliases, ...f.upstreamIds].map((a) => ({ id: a, source: { name: "OSV" } })) }),
      ratings: [
        {
          ...(f.score === undefined ? {} : { score: f.score }),
          severity: CDX_SEVERITY[f.severity],
          method: f.severitySource.includes("cvss_v4") ? "CVSSv4" : f.severitySource.includes("cvss_v3") ? "CVSSv31" : "other",
          justification: `severity source: ${f.severitySource}`
        }
      ],
      ...(f.summary === undefined ? {} : { description: f.summary }),
      ...(fixes.length === 0 ? {} : { recommendation: `Upgrade to ${fixes.join(" or ")}` }),
      affects: list.flatMap((x) => {
        const ref = refFor(x);
        return ref === undefined ? [] : [{ ref, versions: [{ version: x.packageVersion, status: "affected" }] }];
      })
    };
  });
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: report.matchedAt,
      tools: { components: [{ type: "application", name: "scanhook", version: VERSION }] },
      properties: [{ name: "scanhook:db-version", value: report.dbVersion }, ...report.coverageGaps.map((g) => ({ name: "scanhook:coverage-gap", value: `${g.kind}: ${g.detail}` }))]
    },
    components,
    vulnerabilities
  };
}
