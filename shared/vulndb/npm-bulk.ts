/**
 * npm's bulk advisory endpoint as an optional live source: `POST <registry>/-/npm/v1/security/advisories/bulk`
 * with `{ "<name>": ["<version>", …] }` answers, per package name, the advisories that concern
 * those versions: `{ id, url, title, severity, vulnerable_versions, cwe[], cvss? }` (no CVE; the
 * GHSA id is the last segment of `url`). Each is turned into an OSV record (SEMVER ranges, GHSA's
 * severity rating, the CVSS v3 vector when given) and validated like any other record by the
 * build; one advisory concerning several packages is one record with one `affected[]` entry each.
 *
 * `vulnerable_versions` is a node-semver range. The forms npm's advisories use — `||` of sets
 * made of `>=`/`<`/`<=` bounds, `*`, or an exact version — map onto OSV events exactly; anything
 * else (`>`, carets, tildes, hyphen and x-ranges) has no exact OSV form and is reported as an
 * unreadable advisory, never approximated.
 */
import { z } from "zod";
import type { OsvInput } from "./db/build.js";
import { fetchBytes, type FetchOptions } from "./http.js";
import type { RawRecord } from "./sources.js";

export const NPM_BULK_PATH = "/-/npm/v1/security/advisories/bulk";

const AdvisorySchema = z
  .object({
    id: z.union([z.number(), z.string()]),
    url: z.string(),
    title: z.string().optional(),
    severity: z.string().optional(),
    vulnerable_versions: z.string(),
    cwe: z.array(z.string()).optional(),
    cvss: z.object({ score: z.number().optional(), vectorString: z.string().nullable().optional() }).loose().optional()
  })
  .loose();
const BulkResponseSchema = z.record(z.string(), z.array(AdvisorySchema));
export type NpmAdvisory = z.infer<typeof AdvisorySchema>;

type Events = ({ introduced: string } | { fixed: string } | { last_affected: string })[];
export type RangeConversion = { readonly ok: true; readonly ranges: Events[]; readonly versions: string[] } | { readonly ok: false; readonly reason: string };

const SEMVER = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;
const COMPARATOR = /^(<=|>=|<|>|=)?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

/** node-semver range → OSV SEMVER ranges and exact versions, or why it has no exact OSV form. */
export function convertSemverRange(range: string): RangeConversion {
  const ranges: Events[] = [];
  const versions: string[] = [];
  for (const set of range.split("||").map((s) => s.trim())) {
    if (set === "*" || set === "") {
      ranges.push([{ introduced: "0" }]);
      continue;
    }
    const exact = SEMVER.exec(set);
    if (exact?.[1] !== undefined) {
      versions.push(exact[1]);
      continue;
    }
    // `>= 1.2.3` is one comparator spelled with a space: join operators to their versions first.
    const tokens = set.replace(/(<=|>=|<|>|=)\s+/g, "$1").split(/\s+/);
    let lower: string | undefined;
    let upper: { fixed: string } | { last_affected: string } | undefined;
    for (const token of tokens) {
      const m = COMPARATOR.exec(token);
      if (m?.[2] === undefined) return { ok: false, reason: `"${range}": "${token}" is not a comparator OSV can express` };
      const [op, version] = [m[1] ?? "=", m[2]];
      if (op === ">=" && lower === undefined) lower = version;
      else if (op === "<" && upper === undefined) upper = { fixed: version };
      else if (op === "<=" && upper === undefined) upper = { last_affected: version };
      else return { ok: false, reason: `"${range}": "${token}" has no exact OSV form here` };
    }
    ranges.push(upper === undefined ? [{ introduced: lower ?? "0" }] : [{ introduced: lower ?? "0" }, upper]);
  }
  return { ok: true, ranges, versions };
}

/** The OSV id of an advisory: its GHSA id from the URL, else `NPM-<id>`. */
function osvId(advisory: NpmAdvisory): string {
  return /\/(GHSA-[23456789cfghjmpqrvwx]{4}-[23456789cfghjmpqrvwx]{4}-[23456789cfghjmpqrvwx]{4})\/?$/.exec(advisory.url)?.[1] ?? `NPM-${String(advisory.id)}`;
}

/** Posts the package map and validates the answer. Throws `VULNDB.SOURCE_*` like every source. */
export async function fetchNpmBulkAdvisories(registry: string, packages: ReadonlyMap<string, readonly string[]>, options: FetchOptions = {}): Promise<Record<string, NpmAdvisory[]>> {
  const url = `${registry.replace(/\/+$/, "")}${NPM_BULK_PATH}`;
  const body = JSON.stringify(Object.fromEntries([...packages].map(([name, versions]) => [name, [...new Set(versions)]])));
  const bytes = await fetchBytes(url, { maxBytes: 256 * 1024 * 1024, ...options }, { method: "POST", body, headers: { "content-type": "application/json", accept: "application/json" } });
  if (bytes === undefined) return {};
  const parsed = BulkResponseSchema.safeParse(JSON.parse(bytes.toString("utf8")));
  if (!parsed.success) throw new Error(`${url}: not a bulk advisory answer: ${parsed.error.issues[0]?.path.join(".") ?? ""}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

/** The answer as OSV records (texts for the build to validate), one per advisory id. */
export function npmAdvisoryRecords(answer: Readonly<Record<string, readonly NpmAdvisory[]>>, modified: Date): RawRecord[] {
  const byId = new Map<string, { advisory: NpmAdvisory; affected: object[] }>();
  const out: RawRecord[] = [];
  for (const [name, advisories] of Object.entries(answer)) {
    for (const advisory of advisories) {
      const id = osvId(advisory);
      const converted = convertSemverRange(advisory.vulnerable_versions);
      if (!converted.ok) {
        out.push({ origin: `${id} (${name})`, error: `vulnerable_versions ${converted.reason}` });
        continue;
      }
      const entry = {
        package: { ecosystem: "npm", name },
        ...(converted.ranges.length === 0 ? {} : { ranges: converted.ranges.map((events) => ({ type: "SEMVER", events })) }),
        ...(converted.versions.length === 0 ? {} : { versions: converted.versions })
      };
      const seen = byId.get(id);
      if (seen === undefined) byId.set(id, { advisory, affected: [entry] });
      else seen.affected.push(entry);
    }
  }
  for (const [id, { advisory, affected }] of byId) {
    const vector = advisory.cvss?.vectorString ?? undefined;
    const record = {
      schema_version: "1.6.0",
      id,
      modified: modified.toISOString(),
      ...(advisory.title === undefined ? {} : { summary: advisory.title }),
      ...(vector !== undefined && vector.startsWith("CVSS:3") ? { severity: [{ type: "CVSS_V3", score: vector }] } : {}),
      affected,
      references: [{ type: "ADVISORY", url: advisory.url }],
      database_specific: {
        source: "npm bulk advisories",
        ...(advisory.severity === undefined ? {} : { severity: advisory.severity.toUpperCase() }),
        ...(advisory.cwe === undefined ? {} : { cwe_ids: advisory.cwe })
      }
    };
    out.push({ origin: id, text: JSON.stringify(record) });
  }
  return out;
}

/** A build input over the live endpoint for the given packages (`npm-bulk:<registry>`). */
export function npmBulkInput(registry: string, packages: ReadonlyMap<string, readonly string[]>, now: Date, options: FetchOptions = {}): OsvInput {
  return {
    name: `npm-bulk:${registry}`,
    kind: "npm-bulk",
    location: `${registry.replace(/\/+$/, "")}${NPM_BULK_PATH}`,
    records: (async function* () {
      yield* npmAdvisoryRecords(await fetchNpmBulkAdvisories(registry, packages, options), now);
    })()
  };
}
