import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { readFile, rename } from "node:fs/promises";
import { loadProcessSettings } from "../../shared/config.js";
import { ScanhookError } from "../../shared/domain/errors.js";
import { buildVulnDb, type OsvInput } from "../../shared/vulndb/db/build.js";
import { readDbInfo } from "../../shared/vulndb/db/reader.js";
import { openUrl } from "../../shared/vulndb/http.js";
import { fetchRepositoryToCpe, parseRepositoryToCpe } from "../../shared/vulndb/osv-export.js";
import { readLocalSource, readZip } from "../../shared/vulndb/sources.js";
import { updateFromExport } from "../../shared/vulndb/update.js";
import { refreshConfigFrom, vulnDbPath } from "../../shared/vulndb/refresh.js";
import type { Command } from "../command.js";

const usage = (message: string): ScanhookError => new ScanhookError("CLI.USAGE", message);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : []);
const isUrl = (s: string): boolean => /^https?:\/\//.test(s);

/** The DB file commands use when `--db`/`--out` is not given: the one `npm start` serves (`VULNDB_PATH`). */
export function defaultDbPath(): string {
  return vulnDbPath(loadProcessSettings());
}

function osvInput(location: string): OsvInput {
  if (isUrl(location)) {
    return {
      name: `osv-url:${location}`,
      kind: "osv-zip",
      location,
      records: (async function* () {
        const body = await openUrl(location);
        if (body === undefined) throw new ScanhookError("VULNDB.SOURCE_FAILED", `${location} answered 404`);
        yield* readZip(body, location);
      })()
    };
  }
  return { name: `osv-path:${location}`, kind: "osv-path", location, records: readLocalSource(location) };
}

function age(builtAt: string, now: Date): string {
  const hours = (now.getTime() - Date.parse(builtAt)) / 3_600_000;
  return hours < 48 ? `${hours.toFixed(1)} hours` : `${(hours / 24).toFixed(1)} days`;
}

export const dbCommand: Command = {
  name: "db",
  summary: "build --osv <dir|zip|url>... [--redhat-cpe F|URL] [--out F] | update [--db F] [--osv-base URL] [--ecosystems L] [--redhat-cpe URL|none] | info [--db F] [--json] | fetch --url URL [--out F]",
  positionals: true,
  options: {
    osv: { type: "string", multiple: true },
    "redhat-cpe": { type: "string" },
    out: { type: "string" },
    db: { type: "string" },
    "osv-base": { type: "string" },
    ecosystems: { type: "string" },
    url: { type: "string" },
    json: { type: "boolean" }
  },
  async run(values, positionals, { out, err }) {
    const [action, ...rest] = positionals;
    if (rest.length > 0) throw usage(`db ${action ?? ""}: unexpected ${rest.join(" ")}`);
    const now = new Date();
    const progress = (line: string): void => err(line);
    switch (action) {
      case "build": {
        const sources = list(values.osv);
        if (sources.length === 0) throw usage("db build needs at least one --osv <dir|zip|url>");
        const target = typeof values.out === "string" ? values.out : defaultDbPath();
        const cpeSource = typeof values["redhat-cpe"] === "string" ? values["redhat-cpe"] : undefined;
        const cpes = cpeSource === undefined ? undefined : isUrl(cpeSource) ? await fetchRepositoryToCpe(cpeSource) : parseRepositoryToCpe(await readFile(cpeSource, "utf8"));
        err(`building ${target} from ${sources.join(", ")}`);
        const report = await buildVulnDb({
          out: target,
          inputs: sources.map(osvInput),
          ...(cpes === undefined ? {} : { repositoryCpes: cpes, extraSources: [{ name: "redhat:repository-to-cpe", kind: "redhat-cpe", location: cpeSource ?? "", watermark: now.toISOString(), records: cpes.size, warnings: 0 }] }),
          now,
          onProgress: progress
        });
        for (const w of report.warnings) err(`  skipped ${w.origin}: ${w.reason}`);
        if (report.warningCount > report.warnings.length) err(`  … and ${report.warningCount - report.warnings.length} more skipped`);
        out(`${target}: version ${report.version}, ${report.records} records (${report.withdrawn} withdrawn dropped, ${report.warningCount} invalid skipped)`);
        return 0;
      }
      case "update": {
        // Defaults are the settings the runtime's refresh uses (OSV_BASE_URL, OSV_ECOSYSTEMS, REDHAT_CPE_URL).
        const configured = refreshConfigFrom(loadProcessSettings());
        const target = typeof values.db === "string" ? values.db : configured.path;
        const base = typeof values["osv-base"] === "string" ? values["osv-base"] : configured.osvBaseUrl;
        const ecosystems = typeof values.ecosystems === "string" ? values.ecosystems.split(",").map((s) => s.trim()).filter((s) => s !== "") : [...configured.ecosystems];
        // `none` skips the Red Hat map, as REDHAT_CPE_URL=none does.
        const cpeOption = values["redhat-cpe"];
        const cpeUrl = typeof cpeOption === "string" ? (cpeOption === "none" ? undefined : cpeOption) : configured.redHatCpeUrl;
        err(`updating ${target} from ${base}`);
        const outcome = await updateFromExport({ out: target, osvBaseUrl: base, ecosystems, ...(cpeUrl === undefined ? {} : { redHatCpeUrl: cpeUrl }), now, onProgress: progress });
        out(outcome.changed ? `${target}: version ${outcome.report.version}, ${outcome.report.records} records` : `${target}: up to date (version ${outcome.version})`);
        return 0;
      }
      case "info": {
        const target = typeof values.db === "string" ? values.db : defaultDbPath();
        const info = readDbInfo(target);
        if (values.json === true) {
          out(JSON.stringify({ path: target, ...info }, null, 2));
          return 0;
        }
        out(`${target}`);
        out(`  version   ${info.version}`);
        out(`  built     ${info.builtAt} (${age(info.builtAt, now)} ago)`);
        out(`  records   ${info.records}`);
        out(`  sources`);
        for (const s of info.sources) out(`    ${s.name}  ${s.records} records, ${s.warnings} skipped, newest ${s.watermark ?? "-"}`);
        out(`  ecosystems`);
        for (const [e, n] of Object.entries(info.ecosystems)) out(`    ${e}  ${n}`);
        if (info.repositoryCpes > 0) out(`  Red Hat content sets mapped to CPEs: ${info.repositoryCpes}`);
        return 0;
      }
      case "fetch": {
        // Air-gapped: a mirror serving a built DB file.
        if (typeof values.url !== "string") throw usage("db fetch needs --url <URL of a built DB file>");
        const target = typeof values.out === "string" ? values.out : defaultDbPath();
        const body = await openUrl(values.url);
        if (body === undefined) throw new ScanhookError("VULNDB.SOURCE_FAILED", `${values.url} answered 404`);
        const tmp = `${target}.download`;
        await pipeline(Readable.from(body as AsyncIterable<Uint8Array>), createWriteStream(tmp));
        const info = readDbInfo(tmp);
        await rename(tmp, target);
        out(`${target}: version ${info.version}, ${info.records} records`);
        return 0;
      }
      default:
        throw usage(`db needs an action: build, update, info or fetch`);
    }
  }
};
