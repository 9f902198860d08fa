/**
 * The OSV bulk export (https://google.github.io/osv.dev/data/): per ecosystem `<base>/<ECOSYSTEM>/all.zip`,
 * `<base>/<ECOSYSTEM>/<ID>.json`, and `<base>/<ECOSYSTEM>/modified_id.csv`, whose lines
 * `<ISO modified time>,<ID>` are sorted newest first. A first build reads `all.zip`; an update reads
 * the CSV only down to the source's watermark and fetches just those records. When more than
 * {@link FULL_REFETCH_THRESHOLD} records changed, one zip costs less than that many requests.
 */
import { z } from "zod";
import type { OsvInput } from "./db/build.js";
import { fetchBytes, lines, openUrl, type FetchOptions } from "./http.js";
import { readZip, type RawRecord } from "./sources.js";

export const FULL_REFETCH_THRESHOLD = 5_000;

export function exportSourceName(ecosystem: string): string {
  return `osv:${ecosystem}`;
}

function ecosystemUrl(base: string, ecosystem: string, file: string): string {
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(ecosystem)}/${file}`;
}

export interface ExportPlanStep {
  readonly ecosystem: string;
  readonly mode: "full" | "incremental" | "unchanged";
  /** Ids to fetch (incremental). */
  readonly ids: readonly string[];
}

/**
 * Decides per ecosystem what to fetch: `full` without a watermark, else the ids the CSV lists as
 * modified after it. Throws `VULNDB.SOURCE_UNREACHABLE` when the export cannot be reached.
 */
export async function planExport(base: string, ecosystems: readonly string[], watermarks: ReadonlyMap<string, string>, options: FetchOptions = {}): Promise<ExportPlanStep[]> {
  const steps: ExportPlanStep[] = [];
  for (const ecosystem of ecosystems) {
    const watermark = watermarks.get(exportSourceName(ecosystem));
    if (watermark === undefined) {
      steps.push({ ecosystem, mode: "full", ids: [] });
      continue;
    }
    const csv = await openUrl(ecosystemUrl(base, ecosystem, "modified_id.csv"), options);
    if (csv === undefined) {
      steps.push({ ecosystem, mode: "full", ids: [] });
      continue;
    }
    const ids: string[] = [];
    let tooMany = false;
    for await (const line of lines(csv)) {
      const comma = line.indexOf(",");
      if (comma < 0) continue;
      const at = Date.parse(line.slice(0, comma));
      if (!Number.isFinite(at)) continue;
      // Newest first: the first line at or before the watermark ends the walk.
      if (new Date(at).toISOString() <= watermark) break;
      const id = line.slice(comma + 1).trim().split("/").pop() ?? "";
      if (id !== "") ids.push(id);
      if (ids.length > FULL_REFETCH_THRESHOLD) {
        tooMany = true;
        break;
      }
    }
    steps.push(tooMany ? { ecosystem, mode: "full", ids: [] } : { ecosystem, mode: ids.length === 0 ? "unchanged" : "incremental", ids });
  }
  return steps;
}

/** The build inputs for a plan: each yields records as it downloads them. */
export function exportInputs(base: string, plan: readonly ExportPlanStep[], options: FetchOptions = {}): OsvInput[] {
  return plan
    .filter((s) => s.mode !== "unchanged")
    .map((step) => ({
      name: exportSourceName(step.ecosystem),
      kind: "osv-export",
      location: ecosystemUrl(base, step.ecosystem, step.mode === "full" ? "all.zip" : "modified_id.csv"),
      records: step.mode === "full" ? fullZip(base, step.ecosystem, options) : byId(base, step, options)
    }));
}

async function* fullZip(base: string, ecosystem: string, options: FetchOptions): AsyncGenerator<RawRecord> {
  const url = ecosystemUrl(base, ecosystem, "all.zip");
  const body = await openUrl(url, options);
  if (body === undefined) return;
  yield* readZip(body, url);
}

async function* byId(base: string, step: ExportPlanStep, options: FetchOptions): AsyncGenerator<RawRecord> {
  for (const id of new Set(step.ids)) {
    const url = ecosystemUrl(base, step.ecosystem, `${encodeURIComponent(id)}.json`);
    const bytes = await fetchBytes(url, { ...options, maxBytes: 16 * 1024 * 1024 });
    // Listed but gone (deleted since the CSV was written): nothing to keep.
    if (bytes !== undefined) yield { origin: url, text: bytes.toString("utf8") };
  }
}

/**
 * Red Hat's repository-to-cpe.json: `{ "data": { "<content set>": { "cpes": ["cpe:/…"] } } }`
 * (https://security.access.redhat.com/data/metrics/repository-to-cpe.json). From a file's text or
 * a URL's body; entries without CPEs are left out.
 */
const RepositoryToCpeSchema = z.object({ data: z.record(z.string(), z.object({ cpes: z.array(z.string()).optional() }).loose()) });

export function parseRepositoryToCpe(text: string): Map<string, string[]> {
  const parsed = RepositoryToCpeSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`not a repository-to-cpe.json document: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  const map = new Map<string, string[]>();
  for (const [repo, entry] of Object.entries(parsed.data.data)) {
    const cpes = (entry.cpes ?? []).filter((c) => c.startsWith("cpe:/"));
    if (cpes.length > 0) map.set(repo, cpes);
  }
  return map;
}

export async function fetchRepositoryToCpe(url: string, options: FetchOptions = {}): Promise<Map<string, string[]> | undefined> {
  const bytes = await fetchBytes(url, { ...options, maxBytes: 256 * 1024 * 1024 });
  return bytes === undefined ? undefined : parseRepositoryToCpe(bytes.toString("utf8"));
}
