import { readFile, writeFile } from "node:fs/promises";
import { ScanhookError } from "../../shared/domain/errors.js";
import { SeveritySchema, type Severity } from "../../shared/domain/image-record.js";
import { readSbomFacts } from "../../shared/sbom/cyclonedx.js";
import { VulnDb } from "../../shared/vulndb/db/reader.js";
import { createMatcher } from "../../shared/vulndb/match/matcher.js";
import { filterFindings, renderCycloneDx, renderJson, renderSarif, renderTable, type ScanReport } from "../../shared/vulndb/report.js";
import type { SbomFacts } from "../../shared/domain/match.js";
import type { Command } from "../command.js";
import { indexTarget } from "../index-target.js";
import { defaultDbPath } from "./db.js";

const usage = (message: string): ScanhookError => new ScanhookError("CLI.USAGE", message);
const FORMATS = ["table", "json", "sarif", "cyclonedx"] as const;

/**
 * `scanhook scan <target>`: the target's packages — an image (`dir:`, `oci:`, `docker-archive:`,
 * a registry reference: indexed as `scanhook sbom` does) or an SBOM file from any tool
 * (`sbom:<file>`) — matched against the local DB. Exit codes: 0, or `--exit-code N` when findings remain after
 * `--severity` and `--ignore-unfixed`; 1 failure; 2 bad usage.
 */
export const scanCommand: Command = {
  name: "scan",
  summary: "<target>|sbom:<file> [--db F] [--format table|json|sarif|cyclonedx] [--severity LIST] [--ignore-unfixed] [--exit-code N] [--output F] [--platform os/arch] [--no-cache]",
  positionals: true,
  options: {
    db: { type: "string" },
    format: { type: "string" },
    severity: { type: "string" },
    "ignore-unfixed": { type: "boolean" },
    "exit-code": { type: "string" },
    output: { type: "string" },
    platform: { type: "string" },
    "no-cache": { type: "boolean" }
  },
  async run(values, positionals, { out, err }) {
    const [target, ...rest] = positionals;
    if (target === undefined || rest.length > 0) throw usage("scan needs exactly one target");
    const format = typeof values.format === "string" ? values.format : "table";
    if (!(FORMATS as readonly string[]).includes(format)) throw usage(`--format must be one of ${FORMATS.join(", ")}`);
    let severities: Set<Severity> | undefined;
    if (typeof values.severity === "string") {
      severities = new Set();
      for (const s of values.severity.split(",").map((x) => x.trim().toLowerCase()).filter((x) => x !== "")) {
        const parsed = SeveritySchema.safeParse(s);
        if (!parsed.success) throw usage(`--severity: ${s} is not one of ${SeveritySchema.options.join(", ")}`);
        severities.add(parsed.data);
      }
    }
    const exitCode = typeof values["exit-code"] === "string" ? Number(values["exit-code"]) : 0;
    if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) throw usage("--exit-code must be an integer 0–255");
    let facts: SbomFacts;
    if (target.startsWith("sbom:")) {
      const file = target.slice("sbom:".length);
      let json: unknown;
      try {
        json = JSON.parse(await readFile(file, "utf8"));
      } catch (e) {
        throw new ScanhookError("SBOM.UNREADABLE", `${file}: ${(e as Error).message}`);
      }
      const read = readSbomFacts(json);
      if (!read.ok) throw new ScanhookError("SBOM.INVALID", `${file}: ${read.reason}`);
      facts = read.facts;
    } else {
      // An image: indexed here, exactly as `scanhook sbom` does, then matched.
      facts = (await indexTarget(target, { noCache: values["no-cache"] === true, ...(typeof values.platform === "string" ? { platform: values.platform } : {}), progress: err })).index.facts;
    }
    const dbPath = typeof values.db === "string" ? values.db : defaultDbPath();
    const db = VulnDb.open(dbPath);
    try {
      const outcome = createMatcher(db).matchDetailed(facts, new Date());
      const findings = filterFindings(outcome.detailed, { ...(severities === undefined ? {} : { severities }), ignoreUnfixed: values["ignore-unfixed"] === true });
      const report: ScanReport = { target, dbVersion: outcome.dbVersion, matchedAt: outcome.matchedAt, findings, coverageGaps: outcome.coverageGaps, packages: facts.packages };
      const text =
        format === "json" ? renderJson(report) : format === "sarif" ? JSON.stringify(renderSarif(report), null, 2) : format === "cyclonedx" ? JSON.stringify(renderCycloneDx(report), null, 2) : renderTable(report, Math.max(80, process.stdout.columns ?? 80)).join("\n");
      if (typeof values.output === "string") {
        await writeFile(values.output, `${text}\n`);
        err(`wrote ${values.output}`);
      } else out(text);
      return findings.length > 0 ? exitCode : 0;
    } finally {
      db.close();
    }
  }
};
