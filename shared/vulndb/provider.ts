/**
 * The current DB for the functions: in Azure a blob (`BLOB_CONTAINERS.vulndb`/`vulndb.sqlite`,
 * published with its version in `current.json`) downloaded once per version into a local cache
 * file; under `npm start` and the CLI a file path. Checked at most every {@link RECHECK_MS}, so a
 * burst of rematches reads one manifest, not one per message.
 */
import { mkdir, rename } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { BLOB_CONTAINERS, type BlobStore } from "../blobs/blobs.js";
import { VulnDb } from "./db/reader.js";
import { DB_FILE_NAME } from "./defaults.js";
import { createMatcher, type DetailedMatcher } from "./match/matcher.js";

export const CURRENT_MANIFEST = "current.json";
const ManifestSchema = z.object({ version: z.string().min(1), blob: z.string().min(1) });
const RECHECK_MS = 60_000;

export interface MatcherOptions {
  /** Look for a new version now, not after the recheck interval (the refresh has just written one). */
  readonly fresh?: boolean;
}

export interface VulnDbProvider {
  /** The matcher over the newest DB, or undefined while none exists. */
  matcher(options?: MatcherOptions): Promise<DetailedMatcher | undefined>;
}

/** Publishes a built DB file as the current one in blob storage (the DB refresh's last step). */
export async function publishDb(blobs: BlobStore, file: string, version: string): Promise<void> {
  const blob = `versions/${version}/${DB_FILE_NAME}`;
  // Streamed: a full DB is hundreds of megabytes, more than a function instance should hold twice.
  await blobs.put(BLOB_CONTAINERS.vulndb, blob, createReadStream(file), { contentType: "application/vnd.sqlite3" });
  await blobs.put(BLOB_CONTAINERS.vulndb, CURRENT_MANIFEST, Buffer.from(JSON.stringify({ version, blob })), { contentType: "application/json" });
}

/**
 * Downloads the published DB into `file` (atomically), so a refresh in Azure starts from the
 * current version rather than from nothing. False when nothing is published yet.
 */
export async function downloadPublishedDb(blobs: BlobStore, file: string): Promise<boolean> {
  const raw = await blobs.get(BLOB_CONTAINERS.vulndb, CURRENT_MANIFEST);
  if (raw === undefined) return false;
  const manifest = ManifestSchema.parse(JSON.parse(raw.toString("utf8")));
  return downloadBlob(blobs, manifest.blob, file);
}

/** Streams a blob of the DB container into `file` under a temporary name; false when absent. */
async function downloadBlob(blobs: BlobStore, name: string, file: string): Promise<boolean> {
  const body = await blobs.openRead(BLOB_CONTAINERS.vulndb, name);
  if (body === undefined) return false;
  await mkdir(dirname(file), { recursive: true });
  await pipeline(body, createWriteStream(`${file}.part`));
  await rename(`${file}.part`, file);
  return true;
}

/** Serves the DB file at `path` (reopened when its version changes). */
export function fileDbProvider(path: string, now: () => number = Date.now): VulnDbProvider {
  let current: { db: VulnDb; matcher: DetailedMatcher; checkedAt: number } | undefined;
  let retired: VulnDb | undefined;
  return {
    async matcher(options = {}) {
      if (current !== undefined && options.fresh !== true && now() - current.checkedAt < RECHECK_MS) return current.matcher;
      if (!existsSync(path)) return undefined;
      const db = VulnDb.open(path);
      if (current !== undefined && current.db.version === db.version) {
        db.close();
        current.checkedAt = now();
        return current.matcher;
      }
      // The DB before stays open until the next swap: a match still running on its matcher finishes.
      retired?.close();
      retired = current?.db;
      current = { db, matcher: createMatcher(db, { previous: current?.matcher }), checkedAt: now() };
      return current.matcher;
    }
  };
}

/** Serves the blob-published DB, downloading each version once into `cacheDir`. */
export function blobDbProvider(blobs: BlobStore, cacheDir: string, now: () => number = Date.now): VulnDbProvider {
  let current: { version: string; db: VulnDb; matcher: DetailedMatcher; checkedAt: number } | undefined;
  let retired: VulnDb | undefined;
  return {
    async matcher(options = {}) {
      if (current !== undefined && options.fresh !== true && now() - current.checkedAt < RECHECK_MS) return current.matcher;
      const raw = await blobs.get(BLOB_CONTAINERS.vulndb, CURRENT_MANIFEST);
      if (raw === undefined) return current?.matcher;
      const manifest = ManifestSchema.parse(JSON.parse(raw.toString("utf8")));
      if (current?.version === manifest.version) {
        current.checkedAt = now();
        return current.matcher;
      }
      const file = join(cacheDir, `${manifest.version.replace(/[^A-Za-z0-9._-]/g, "_")}.sqlite`);
      if (!existsSync(file) && !(await downloadBlob(blobs, manifest.blob, file))) return current?.matcher;
      const db = VulnDb.open(file);
      retired?.close();
      retired = current?.db;
      current = { version: manifest.version, db, matcher: createMatcher(db, { previous: current?.matcher }), checkedAt: now() };
      return current.matcher;
    }
  };
}
