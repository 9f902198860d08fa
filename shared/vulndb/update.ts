/**
 * `db update` and the host's background refresh: bring a DB up to date from the OSV export (full
 * zips for ecosystems it has never seen, only the records modified since each watermark for the
 * rest) and, when a URL is set, Red Hat's repository-to-cpe.json.
 */
import { existsSync } from "node:fs";
import { buildVulnDb, type BuildReport } from "./db/build.js";
import { readDbInfo } from "./db/reader.js";
import type { DbInfo } from "./db/format.js";
import { ScanhookError } from "../domain/errors.js";
import type { FetchOptions } from "./http.js";
import { exportInputs, fetchRepositoryToCpe, planExport, type ExportPlanStep } from "./osv-export.js";

export interface UpdateOptions {
  readonly out: string;
  readonly osvBaseUrl: string;
  readonly ecosystems: readonly string[];
  readonly redHatCpeUrl?: string;
  readonly now: Date;
  readonly onProgress?: (line: string) => void;
  readonly fetch?: FetchOptions;
}

export type UpdateOutcome =
  | { readonly changed: true; readonly report: BuildReport; readonly plan: readonly ExportPlanStep[] }
  | { readonly changed: false; readonly version: string; readonly plan: readonly ExportPlanStep[] };

/**
 * The DB an update starts from. One this version cannot read (an older format after an upgrade, a
 * damaged file) is rebuilt from nothing rather than failing every update: it holds only public
 * data that the sources give again.
 */
function readableBase(path: string, progress: (line: string) => void): DbInfo | undefined {
  try {
    return readDbInfo(path);
  } catch (e) {
    if (!(e instanceof ScanhookError) || e.code !== "VULNDB.INVALID") throw e;
    progress(`  ${e.message}: building a new DB from every source`);
    return undefined;
  }
}

export async function updateFromExport(options: UpdateOptions): Promise<UpdateOutcome> {
  const progress = options.onProgress ?? ((): void => undefined);
  const base = existsSync(options.out) ? readableBase(options.out, progress) : undefined;
  const watermarks = new Map((base?.sources ?? []).filter((s) => s.watermark !== undefined).map((s) => [s.name, s.watermark as string]));
  const plan = await planExport(options.osvBaseUrl, options.ecosystems, watermarks, options.fetch);
  for (const step of plan) progress(`  ${step.ecosystem}: ${step.mode === "full" ? "all.zip" : step.mode === "incremental" ? `${step.ids.length} modified records` : "unchanged"}`);
  const cpes = options.redHatCpeUrl === undefined ? undefined : await fetchRepositoryToCpe(options.redHatCpeUrl, options.fetch);
  if (base !== undefined && cpes === undefined && plan.every((s) => s.mode === "unchanged")) return { changed: false, version: base.version, plan };
  const report = await buildVulnDb({
    out: options.out,
    ...(base === undefined ? {} : { base: options.out }),
    inputs: exportInputs(options.osvBaseUrl, plan, options.fetch),
    ...(cpes === undefined ? {} : { repositoryCpes: cpes }),
    ...(cpes === undefined || options.redHatCpeUrl === undefined
      ? {}
      : { extraSources: [{ name: "redhat:repository-to-cpe", kind: "redhat-cpe", location: options.redHatCpeUrl, watermark: options.now.toISOString(), records: cpes.size, warnings: 0 }] }),
    now: options.now,
    onProgress: progress
  });
  return { changed: true, report, plan };
}
