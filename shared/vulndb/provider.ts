/**
 * The current DB for the functions: in Azure a blob (`BLOB_CONTAINERS.vulndb`/`vulndb.sqlite`,
 * published with its version in `current.json`) downloaded once per version into a local cache
 * file; under `npm start` and the CLI a file path. Checked at most every {@link RECHECK_MS}, so a
 * burst of rematches reads one manifest, not one per message.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { BLOB_CONTAINERS, type BlobStore } from "../blobs/blobs.js";
import { VulnDb } from "./db/reader.js";
import { DB_FILE_NAME } from "./defaults.js";
import { createMatcher, type DetailedMatcher } from "./match/matcher.js";

export const CURRENT_MANIFEST = "current.json";
const ManifestSchema = z.object({ version: z.string().min(1), blob: z.string().min(1) });
const RECHECK_MS = 60_000;

export interface VulnDbProvider {
  /** The matcher over the newest DB, or undefined while none exists. */
  matcher(): Promise<DetailedMatcher | undefined>;
}

/** Publishes a built DB file as the current one in blob storage (the DB refresh's last step). */
export async function publishDb(blobs: BlobStore, file: string, version: string): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  const blob = `versions/${version}/${DB_FILE_NAME}`;
  await blobs.put(BLOB_CONTAINERS.vulndb, blob, await readFile(file), { contentType: "application/vnd.sqlite3" });
  await blobs.put(BLOB_CONTAINERS.vulndb, CURRENT_MANIFEST, Buffer.from(JSON.stringify({ version, blob })), { contentType: "application/json" });
}

/** Serves the DB file at `path` (reopened when its version changes). */
export function fileDbProvider(path: string, now: () => number = Date.now): VulnDbProvider {
  let current: { db: VulnDb; matcher: DetailedMatcher; checkedAt: number } | undefined;
  return {
    async matcher() {
      if (current !== undefined && now() - current.checkedAt < RECHECK_MS) return current.matcher;
      if (!existsSync(path)) return undefined;
      const db = VulnDb.open(path);
      if (current !== undefined && current.db.version === db.version) {
        db.close();
        current.checkedAt = now();
        return current.matcher;
      }
      current?.db.close();
      current = { db, matcher: createMatcher(db), checkedAt: now() };
      return current.matcher;
    }
  };
}

/** Serves the blob-published DB, downloading each version once into `cacheDir`. */
export function blobDbProvider(blobs: BlobStore, cacheDir: string, now: () => number = Date.now): VulnDbProvider {
  let current: { version: string; db: VulnDb; matcher: DetailedMatcher; checkedAt: number } | undefined;
  return {
    async matcher() {
      if (current !== undefined && now() - current.checkedAt < RECHECK_MS) return current.matcher;
      const raw = await blobs.get(BLOB_CONTAINERS.vulndb, CURRENT_MANIFEST);
      if (raw === undefined) return current?.matcher;
      const manifest = ManifestSchema.parse(JSON.parse(raw.toString("utf8")));
      if (current?.version === manifest.version) {
        current.checkedAt = now();
        return current.matcher;
      }
      const file = join(cacheDir, `${manifest.version.replace(/[^A-Za-z0-9._-]/g, "_")}.sqlite`);
      if (!existsSync(file)) {
        const bytes = await blobs.get(BLOB_CONTAINERS.vulndb, manifest.blob);
        if (bytes === undefined) return current?.matcher;
        await mkdir(dirname(file), { recursive: true });
        await writeFile(`${file}.part`, bytes);
        await rename(`${file}.part`, file);
      }
      const db = VulnDb.open(file);
      current?.db.close();
      current = { version: manifest.version, db, matcher: createMatcher(db), checkedAt: now() };
      return current.matcher;
    }
  };
}
