import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { buildVulnDb, type BuildReport } from "../../shared/vulndb/db/build.js";
import { VulnDb } from "../../shared/vulndb/db/reader.js";
import { readLocalSource } from "../../shared/vulndb/sources.js";
import type { InstalledPackage } from "../../shared/domain/package.js";
import { NO_DB_GAP, NO_DB_VERSION, type SbomFacts } from "../../shared/domain/match.js";
import type { Digest } from "../../shared/domain/digest.js";
import { newImageRecord, type CoverageGap, type ImageRecord } from "../../shared/domain/image-record.js";

/** A temporary directory removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `scanhook-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const osvSchema = JSON.parse(readFileSync(new URL("../fixtures/schemas/osv.schema.json", import.meta.url), "utf8")) as object;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validateOsv = ajv.compile(osvSchema);

/** Throws unless `record` is valid against the published OSV schema: fixtures must be real records. */
export function assertValidOsv(record: object): void {
  if (!validateOsv(record)) throw new Error(`fixture is not a valid OSV record: ${JSON.stringify(validateOsv.errors?.slice(0, 3))}`);
}

export const MODIFIED = "2024-05-01T00:00:00Z";

/** Writes each record as `<dir>/<id>.json` (checked against the OSV schema unless `unchecked`). */
export function writeRecords(dir: string, records: readonly object[], options: { unchecked?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  records.forEach((r, i) => {
    if (options.unchecked !== true) assertValidOsv(r);
    const id = (r as { id?: unknown }).id;
    writeFileSync(join(dir, `${typeof id === "string" ? id : `bad-${i}`}.json`), JSON.stringify(r));
  });
}

/** Builds a DB from records in a fresh directory and opens it. */
export async function dbFrom(records: readonly object[], options: { repositoryCpes?: Map<string, string[]> } = {}): Promise<{ db: VulnDb; report: BuildReport; remove: () => void }> {
  const t = tempDir("vulndb");
  const src = join(t.dir, "osv");
  writeRecords(src, records);
  const out = join(t.dir, "vulndb.sqlite");
  const report = await buildVulnDb({
    out,
    inputs: [{ name: "osv-dir:test", kind: "osv-dir", location: src, records: readLocalSource(src) }],
    ...(options.repositoryCpes === undefined ? {} : { repositoryCpes: options.repositoryCpes }),
    now: new Date("2024-06-01T00:00:00Z")
  });
  const db = VulnDb.open(out);
  return {
    db,
    report,
    remove: () => {
      db.close();
      t.remove();
    }
  };
}

/** An OSV record affecting one package with one range (plus whatever `extra` adds). */
export function osv(id: string, ecosystem: string, name: string, events: object[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { affectedExtra, ...top } = extra as { affectedExtra?: Record<string, unknown> };
  return {
    schema_version: "1.6.0",
    id,
    modified: MODIFIED,
    affected: [{ package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events }], ...(affectedExtra ?? {}) }],
    ...top
  };
}

export function pkg(name: string, version: string, ecosystem: string | undefined, more: Partial<InstalledPackage> = {}): InstalledPackage {
  return { name, version, ecosystem, purl: `pkg:generic/${name}@${version}`, analyzer: "test", ...more };
}

export function facts(packages: readonly InstalledPackage[], more: Partial<SbomFacts> = {}): SbomFacts {
  return { distribution: undefined, contentSetCpes: [], packages, coverageGaps: [], ...more };
}

/** A stored scanhook SBOM of a Debian 12 image: util-linux's `bsdutils` (an epoch) and `mount`, both in `layer`. */
export function utilLinuxSbom(layer: string): object {
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    metadata: { properties: [{ name: "scanhook:distribution", value: "Debian:12" }] },
    components: ["bsdutils", "mount"].map((name) => ({
      type: "library",
      name,
      version: name === "bsdutils" ? "1:2.38.1-5+deb12u3" : "2.38.1-5+deb12u3",
      purl: `pkg:deb/debian/${name}@2.38.1-5%2Bdeb12u3?distro=debian-12`,
      properties: [
        { name: "scanhook:analyzer", value: "os/dpkg" },
        { name: "scanhook:ecosystem", value: "Debian:12" },
        { name: "scanhook:source-name", value: "util-linux" },
        { name: "scanhook:source-version", value: "2.38.1-5+deb12u3" },
        { name: "scanhook:layer", value: layer }
      ]
    }))
  };
}

/** A record as the scanner leaves it when no DB exists: indexed, the SBOM `utilLinuxSbom` stored, `dbVersion: "none"`. */
export function neverMatched(digest: Digest, sbomBlob: string, coverageGaps: CoverageGap[] = [NO_DB_GAP]): ImageRecord {
  const at = "2024-06-01T00:00:00.000Z";
  return {
    ...newImageRecord(digest, new Date(at)),
    kind: "image",
    scan: { state: "done", requestKind: "index", attempts: 1, updatedAt: at },
    result: {
      analyzers: { "os/dpkg": "1" },
      sbom: { blob: sbomBlob, mediaType: "application/vnd.cyclonedx+json" },
      packageCounts: { "Debian:12": 2 },
      findings: [],
      coverageGaps,
      indexedAt: at,
      dbVersion: NO_DB_VERSION,
      matchedAt: at
    }
  };
}
