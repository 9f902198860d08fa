/**
 * The DB refresh the runtime runs (at start and on a timer): bring `VULNDB_PATH` up to date from
 * the OSV export (a full build the first time, the records modified since each watermark after
 * that) and, with `VULNDB_SOURCE=blob`, publish each new version to blob storage for every other
 * instance and the scanner jobs.
 *
 * Unreachable sources are normal on an air-gapped machine: the first failure is said once, with
 * what to do about it, and later identical failures only at debug level; scanhook keeps serving
 * meanwhile (images are indexed and wait for a DB). One refresh at a time per process.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Settings } from "../config.js";
import type { BlobStore } from "../blobs/blobs.js";
import { describeError, isScanhookError } from "../domain/errors.js";
import { readDbInfo } from "./db/reader.js";
import { DB_FILE_NAME } from "./defaults.js";
import type { FetchOptions } from "./http.js";
import { blobDbProvider, downloadPublishedDb, fileDbProvider, publishDb, type VulnDbProvider } from "./provider.js";
import { updateFromExport } from "./update.js";

export interface RefreshConfig {
  /** The DB file the refresh writes (with `blob`: its working copy). */
  readonly path: string;
  readonly source: "file" | "blob";
  readonly download: boolean;
  readonly osvBaseUrl: string;
  readonly ecosystems: readonly string[];
  readonly redHatCpeUrl: string | undefined;
  readonly fetch?: FetchOptions;
}

/** `VULNDB_PATH`, else `<SCANHOOK_DATA_DIR>/vulndb.sqlite`. */
export function vulnDbPath(settings: Pick<Settings, "VULNDB_PATH" | "SCANHOOK_DATA_DIR">): string {
  return settings.VULNDB_PATH ?? join(settings.SCANHOOK_DATA_DIR, DB_FILE_NAME);
}

export function refreshConfigFrom(settings: Settings): RefreshConfig {
  return {
    path: vulnDbPath(settings),
    source: settings.VULNDB_SOURCE,
    download: settings.VULNDB_DOWNLOAD,
    osvBaseUrl: settings.OSV_BASE_URL,
    ecosystems: settings.OSV_ECOSYSTEMS.split(",").map((s) => s.trim()).filter((s) => s !== ""),
    redHatCpeUrl: settings.REDHAT_CPE_URL === "none" ? undefined : settings.REDHAT_CPE_URL
  };
}

/** The provider the settings ask for: the file itself, or the published blob cached beside the file. */
export function vulnDbProviderFrom(settings: Settings, blobs: BlobStore): VulnDbProvider {
  const path = vulnDbPath(settings);
  return settings.VULNDB_SOURCE === "blob" ? blobDbProvider(blobs, join(dirname(path), "vulndb-cache")) : fileDbProvider(path);
}

export type RefreshOutcome =
  | { readonly kind: "off" }
  | { readonly kind: "busy" }
  | { readonly kind: "unchanged"; readonly version: string }
  | { readonly kind: "built"; readonly version: string; readonly records: number; readonly published: boolean }
  | { readonly kind: "failed"; readonly code: string; readonly message: string };

export interface RefreshLog {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export class VulnDbRefresher {
  private running: Promise<RefreshOutcome> | undefined;
  /** The failure code last said at warn level; repeats of it go to debug. */
  private said: string | undefined;

  constructor(
    private readonly config: RefreshConfig,
    private readonly blobs: BlobStore,
    private readonly now: () => Date = () => new Date()
  ) {}

  /** Runs one refresh, or answers `busy` while another is in progress in this process. */
  refresh(log: RefreshLog): Promise<RefreshOutcome> {
    if (!this.config.download) return Promise.resolve({ kind: "off" });
    if (this.running !== undefined) return Promise.resolve({ kind: "busy" });
    const run = this.run(log).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async run(log: RefreshLog): Promise<RefreshOutcome> {
    const { path, osvBaseUrl, ecosystems } = this.config;
    try {
      if (this.config.source === "blob" && !existsSync(path) && (await downloadPublishedDb(this.blobs, path))) {
        log.info(`vulnerability DB: starting from the published version ${readDbInfo(path).version}`);
      }
      const first = !existsSync(path);
      if (first) log.info(`vulnerability DB: none at ${path} yet; building it from ${osvBaseUrl} (${ecosystems.length} ecosystems) in the background — images are indexed meanwhile and matched when it is ready`);
      const outcome = await updateFromExport({
        out: path,
        osvBaseUrl,
        ecosystems,
        ...(this.config.redHatCpeUrl === undefined ? {} : { redHatCpeUrl: this.config.redHatCpeUrl }),
        now: this.now(),
        // The first build's progress is news; an hourly update's plan is not.
        onProgress: (line) => (first ? log.info(`vulnerability DB: ${line.trim()}`) : log.debug(`vulnerability DB: ${line.trim()}`)),
        ...(this.config.fetch === undefined ? {} : { fetch: this.config.fetch })
      });
      if (this.said !== undefined) log.info("vulnerability DB: the sources answer again");
      this.said = undefined;
      if (!outcome.changed) {
        log.debug(`vulnerability DB: up to date (${outcome.version})`);
        return { kind: "unchanged", version: outcome.version };
      }
      const published = this.config.source === "blob";
      if (published) await publishDb(this.blobs, path, outcome.report.version);
      log.info(`vulnerability DB: version ${outcome.report.version}, ${outcome.report.records} records${published ? ", published" : ""}`);
      return { kind: "built", version: outcome.report.version, records: outcome.report.records, published };
    } catch (e) {
      const code = isScanhookError(e) ? e.code : "INTERNAL";
      const message = describeError(e);
      if (this.said !== code) {
        this.said = code;
        log.warn(
          code === "VULNDB.SOURCE_UNREACHABLE" || code === "VULNDB.SOURCE_FAILED"
            ? `vulnerability DB: the sources cannot be reached (${message}). scanhook keeps serving: images are indexed and wait for a DB, their verdicts pending. ` +
                "It tries again every hour. Offline, build one with `scanhook db build --osv <dir|zip>` or fetch one with `scanhook db fetch --url <mirror>`; set VULNDB_DOWNLOAD=false to stop trying."
            : `vulnerability DB: refresh failed (${message}); the current DB, if any, stays in use`
        );
      } else {
        log.debug(`vulnerability DB: refresh failed again: ${message}`);
      }
      return { kind: "failed", code, message };
    }
  }
}
