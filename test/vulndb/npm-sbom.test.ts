import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { buildVulnDb } from "../../shared/vulndb/db/build.js";
import { readLocalSource } from "../../shared/vulndb/sources.js";
import { tempDir, writeRecords } from "./support.js";

/**
 * npm through a real foreign SBOM: a project the test makes (pinned old versions of real packages,
 * one of them nested under another at a second version), locked with `npm install
 * --package-lock-only` against the npm registry, its SBOM made by the CycloneDX project's own
 * `@cyclonedx/cyclonedx-npm`, scanned with `sbom:` against GHSA-shaped OSV records. The oracle is
 * npm's own `semver.satisfies`.
 */

const t = tempDir("npm-sbom");
const project = join(t.dir, "project");
const bom = join(t.dir, "bom.json");
const dbPath = join(t.dir, "vulndb.sqlite");

type Event = { introduced?: string; fixed?: string; last_affected?: string };
const ghsa = (id: string, cve: string, name: string, severity: string, ...ranges: Event[][]): Record<string, unknown> => ({
  schema_version: "1.4.0",
  id,
  modified: "2024-05-01T00:00:00Z",
  published: "2020-01-01T00:00:00Z",
  aliases: [cve],
  summary: `${name} advisory ${id}`,
  affected: [{ package: { ecosystem: "npm", name }, ranges: ranges.map((events) => ({ type: "ECOSYSTEM", events })) }],
  references: [{ type: "ADVISORY", url: `https://github.com/advisories/${id}` }],
  database_specific: { severity, github_reviewed: true, cwe_ids: ["CWE-1321"] }
});

const records = [
  ghsa("GHSA-35jh-r3h4-6jhm", "CVE-2021-23337", "lodash", "HIGH", [{ introduced: "0" }, { fixed: "4.17.21" }]),
  ghsa("GHSA-p6mc-m468-83gw", "CVE-2020-8203", "lodash", "HIGH", [{ introduced: "3.7.0" }, { fixed: "4.17.19" }]),
  ghsa("GHSA-jf85-cpcp-j695", "CVE-2019-10744", "lodash", "CRITICAL", [{ introduced: "0" }, { fixed: "4.17.12" }]),
  ghsa("GHSA-vh95-rmgr-6w4m", "CVE-2020-7598", "minimist", "MODERATE", [{ introduced: "0" }, { fixed: "0.2.1" }], [{ introduced: "1.0.0" }, { fixed: "1.2.3" }]),
  ghsa("GHSA-xvch-5gv4-984h", "CVE-2021-44906", "minimist", "CRITICAL", [{ introduced: "0" }, { fixed: "0.2.4" }], [{ introduced: "1.0.0" }, { fixed: "1.2.6" }]),
  ghsa("GHSA-gxpj-cx7g-858c", "CVE-2017-16137", "debug", "LOW", [{ introduced: "0" }, { fixed: "2.6.9" }], [{ introduced: "3.0.0" }, { fixed: "3.1.0" }]),
  ghsa("GHSA-w9mr-4mfr-499f", "CVE-2017-20162", "ms", "MODERATE", [{ introduced: "0" }, { fixed: "2.0.0" }]),
  ghsa("GHSA-test-last-0001", "CVE-2099-0001", "ms", "LOW", [{ introduced: "2.0.0" }, { last_affected: "2.0.0" }])
];

/** The same ranges as an npm range string, for `semver.satisfies`. */
function npmRange(ranges: { events: Event[] }[]): string {
  return ranges
    .map(({ events }) => {
      const intro = events.find((e) => e.introduced !== undefined)?.introduced ?? "0";
      const lower = intro === "0" ? ">=0.0.0" : `>=${intro}`;
      const fixed = events.find((e) => e.fixed !== undefined)?.fixed;
      const last = events.find((e) => e.last_affected !== undefined)?.last_affected;
      return `${lower}${fixed !== undefined ? ` <${fixed}` : last !== undefined ? ` <=${last}` : ""}`;
    })
    .join(" || ");
}

let sbomComponents: { name: string; version: string; purl: string }[] = [];

beforeAll(() => {
  writeRecords(join(t.dir, "osv"), records);
  writeFileSync(
    join(t.dir, "package.json"),
    "{}" // keeps npm from walking up into the repository
  );
  execFileSync("mkdir", ["-p", project]);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "scanhook-npm-fixture",
      version: "1.0.0",
      private: true,
      // debug 2.6.8 needs ms 2.0.0 (nested under it: the top level has ms 2.1.1); mkdirp 0.5.1 needs
      // minimist 0.0.8 (nested: the top level has 1.2.0); lodash is deduplicated
      dependencies: { debug: "2.6.8", ms: "2.1.1", mkdirp: "0.5.1", minimist: "1.2.0", lodash: "4.17.15", "lodash.merge": "4.6.1" }
    })
  );
  execFileSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: project, stdio: "pipe", timeout: 120_000 });
  const cli = join(process.cwd(), "node_modules/@cyclonedx/cyclonedx-npm/bin/cyclonedx-npm-cli.js");
  execFileSync(process.execPath, [cli, "--package-lock-only", "--spec-version", "1.5", "--output-format", "JSON", "--output-file", bom], { cwd: project, stdio: "pipe", timeout: 120_000 });
  type Component = { name: string; version: string; purl: string; group?: string; components?: Component[] };
  const doc = JSON.parse(readFileSync(bom, "utf8")) as { components?: Component[] };
  // cyclonedx-npm nests a dependency installed under another package inside that package's `components`
  const walk = (list: readonly Component[]): Component[] => list.flatMap((c) => [c, ...walk(c.components ?? [])]);
  sbomComponents = walk(doc.components ?? []).map((c) => ({ name: c.group === undefined || c.group === "" ? c.name : `${c.group}/${c.name}`, version: c.version, purl: c.purl }));
}, 240_000);
afterAll(() => t.remove());

describe("npm through a foreign CycloneDX SBOM", () => {
  it("the SBOM has nested and deduplicated components", () => {
    const versions = (n: string): string[] => sbomComponents.filter((c) => c.name === n).map((c) => c.version).sort();
    expect(versions("ms")).toEqual(["2.0.0", "2.1.1"]);
    expect(versions("minimist")).toEqual(["0.0.8", "1.2.0"]);
    expect(versions("lodash")).toEqual(["4.17.15"]);
  });

  it("every finding equals what semver.satisfies says; none missed; what the SBOM lacks is coverage", async () => {
    await buildVulnDb({ out: dbPath, inputs: [{ name: "osv", kind: "osv-dir", location: "osv", records: readLocalSource(join(t.dir, "osv")) }], now: new Date() });
    const lines: string[] = [];
    const code = await main(["scan", `sbom:${bom}`, "--db", dbPath, "--format", "json"], (l) => lines.push(l), () => undefined);
    expect(code).toBe(0);
    const report = JSON.parse(lines.join("\n")) as { findings: { id: string; aliases: string[]; packageName: string; packageVersion: string; severity: string; fixedVersion?: string }[]; coverageGaps: { kind: string }[] };

    const expected: string[] = [];
    for (const c of sbomComponents) {
      for (const r of records) {
        const affected = r.affected as { package: { name: string }; ranges: { events: Event[] }[] }[];
        for (const a of affected) {
          if (a.package.name === c.name && semver.satisfies(c.version, npmRange(a.ranges))) expected.push(`${c.name}@${c.version} ${(r.aliases as string[])[0] ?? ""}`);
        }
      }
    }
    const actual = report.findings.map((f) => `${f.packageName}@${f.packageVersion} ${f.id}`);
    expect(actual.sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThanOrEqual(8);
    // each finding carries its GHSA id as an alias and GitHub's rating as its severity
    const lodash = report.findings.find((f) => f.id === "CVE-2021-23337");
    expect(lodash).toMatchObject({ aliases: ["GHSA-35jh-r3h4-6jhm"], severity: "high", fixedVersion: "4.17.21" });
    // lodash 4.17.15 is past GHSA-jf85-cpcp-j695's fix: not reported
    expect(report.findings.some((f) => f.id === "CVE-2019-10744")).toBe(false);
    expect(report.coverageGaps.map((g) => g.kind).sort()).toEqual(["sbom-no-layers", "sbom-no-os-packages"]);
  });

  it("writes CycloneDX 1.5 with vulnerabilities that validates against the CycloneDX schema, and SARIF 2.1.0", async () => {
    const out = join(t.dir, "vex.json");
    expect(await main(["scan", `sbom:${bom}`, "--db", dbPath, "--format", "cyclonedx", "--output", out], () => undefined, () => undefined)).toBe(0);
    const schemaDir = join(process.cwd(), "node_modules/@cyclonedx/cyclonedx-library/res/schema");
    const load = (f: string): Record<string, unknown> => JSON.parse(readFileSync(join(schemaDir, f), "utf8")) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    for (const f of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) {
      const { $id: _id, ...schema } = load(f);
      ajv.addSchema(schema, `http://cyclonedx.org/schema/${f}`);
    }
    const validate = ajv.compile(load("bom-1.5.SNAPSHOT.schema.json"));
    const doc = JSON.parse(readFileSync(out, "utf8")) as { vulnerabilities: unknown[] };
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(doc.vulnerabilities.length).toBe(6);

    const sarifOut = join(t.dir, "scan.sarif");
    expect(await main(["scan", `sbom:${bom}`, "--db", dbPath, "--format", "sarif", "--output", sarifOut, "--severity", "critical", "--exit-code", "3"], () => undefined, () => undefined)).toBe(3);
    const sarif = JSON.parse(readFileSync(sarifOut, "utf8")) as { version: string; runs: { results: { ruleId: string; level: string }[] }[] };
    expect(sarif.version).toBe("2.1.0");
    expect(new Set(sarif.runs[0]?.results.map((r) => r.level))).toEqual(new Set(["error"]));
    // The published SARIF 2.1.0 schema is draft-04; it uses none of draft-04's differences but
    // `id`, so Ajv 8 reads it once `id` is spelled `$id`; one of its patterns is not valid under
    // the `u` flag Ajv uses by default.
    const sarifSchema = JSON.parse(readFileSync(new URL("../fixtures/schemas/sarif-2.1.0-rtm.5.json", import.meta.url), "utf8")) as Record<string, unknown>;
    const { id: sarifId, $schema: _draft04, ...sarifRest } = sarifSchema;
    const sarifAjv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    (addFormats as unknown as (a: Ajv) => void)(sarifAjv);
    const validateSarif = sarifAjv.compile({ ...sarifRest, $id: String(sarifId) });
    expect(validateSarif(sarif), JSON.stringify(validateSarif.errors?.slice(0, 3))).toBe(true);
  });

  it("prints a table no wider than 80 columns", async () => {
    const lines: string[] = [];
    await main(["scan", `sbom:${bom}`, "--db", dbPath], (l) => lines.push(...l.split("\n")), () => undefined);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });
});
