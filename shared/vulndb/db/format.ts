/**
 * The compiled vulnerability DB: one SQLite file (better-sqlite3, which loads on Node 20 and 22
 * alike and reads with no server), indexed by (ecosystem, normalised package name). SQLite rather
 * than a bespoke format because the file is queried by key without being read whole, survives a
 * crash mid-write only as a `.tmp` that is never renamed into place, and is opened read-only by any
 * number of matchers at once.
 *
 * Tables:
 * - `meta` (key, value): `format`, `version` (build time + content hash), `built_at`, `content_hash`;
 * - `sources` (name, kind, location, watermark, records, warnings, updated_at): per-source
 *   watermarks (the newest `modified` seen), which `db update` resumes from;
 * - `vulns` (id, modified, source, json, affected): each record without `details` and `credits`,
 *   its `affected` array apart (the build reads it; a match reads only the rest, and only for
 *   records that matched); a rowid table for the reason `INDEX_SQL` gives;
 * - `packages` (ecosystem, name, hash, entries): one row per package a record names, `name` normalised
 *   (`names.ts`), `entries` one JSON array of columns, entry `i` the `i`th of each, the entries in
 *   record-id order: `[record hashes, record ids, ranges, versions, other fields, reported ids,
 *   aliases, upstream ids, severities, scores, severity sources]`.
 *   - ranges as `versions/ranges.ts` `storeRanges` keeps them: a string for one `ECOSYSTEM` range
 *     introduced at "0" and fixed at it (nearly every distribution advisory), else flat ranges;
 *   - `versions` and the entry's other fields (`ecosystem_specific`, …) `0` when absent;
 *   - the record's facts (`record-facts.ts` `storeFacts`: reported id, aliases, upstream ids,
 *     severity), so that most findings are made without reading the record;
 *   - a column in which no entry has a value (versions, other fields, a reported id that is not
 *     the record's own, aliases, upstream ids) is `0`, not a list of them;
 *   - the record hashes are one string, 16 hex digits (of sha256) per entry, each covering the
 *     record and the records it names in `aliases`/`upstream`: all a finding from the entry reads.
 *   `hash` is that of `entries`. One point read and one `JSON.parse` per package a match asks about,
 *   which makes a few arrays of strings: format 1 kept a row per entry, and a rematch spent most of
 *   its time stepping through them; format 6 kept an array (and a facts array) per entry, which a
 *   cold rematch spent a quarter of its time reading and collecting. The hashes let the matcher for
 *   the next DB version keep what it worked out for every package, and every record, an update did
 *   not touch;
 * - `aliases` (alias, vuln): every id a record names in `aliases` or `upstream`;
 * - `ecosystems` (ecosystem, records): how many records name each ecosystem string;
 * - `repository_cpes` (repository, cpe): Red Hat's repository-to-cpe.json, content set → CPE.
 */
export const DB_FORMAT = "scanhook-vulndb/7";

/** Hex digits of sha256 kept for a record or package hash. */
export const RECORD_HASH_LENGTH = 16;

/** Entry `i`'s record hash in a package's record hashes (one string, 16 characters per entry). */
export function recordHashOf(recordHashes: string, i: number): string {
  return recordHashes.slice(i * RECORD_HASH_LENGTH, (i + 1) * RECORD_HASH_LENGTH);
}

export const SCHEMA_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (name TEXT PRIMARY KEY, kind TEXT NOT NULL, location TEXT NOT NULL, watermark TEXT, records INTEGER NOT NULL DEFAULT 0, warnings INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE vulns (id TEXT PRIMARY KEY, modified TEXT NOT NULL, source TEXT NOT NULL, json TEXT NOT NULL, affected TEXT NOT NULL);
CREATE TABLE packages (ecosystem TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL, entries TEXT NOT NULL);
CREATE TABLE aliases (alias TEXT NOT NULL, vuln TEXT NOT NULL);
CREATE TABLE ecosystems (ecosystem TEXT PRIMARY KEY, records INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE repository_cpes (repository TEXT NOT NULL, cpe TEXT NOT NULL, PRIMARY KEY (repository, cpe)) WITHOUT ROWID;
`;

/**
 * Built after the rows are in: one sort instead of a B-tree insert per row. `packages` is a rowid
 * table with a separate key index, not `WITHOUT ROWID`: its rows are kilobytes, and an index
 * B-tree keeps only about a kilobyte of a row in the page before spilling to overflow pages (a
 * point read took twice as long).
 */
export const INDEX_SQL = `
CREATE UNIQUE INDEX packages_key ON packages (ecosystem, name);
CREATE INDEX aliases_alias ON aliases (alias);
`;

export interface SourceInfo {
  readonly name: string;
  /** `osv-dir`, `osv-zip`, `osv-export`, `npm-bulk`, `redhat-cpe` */
  readonly kind: string;
  readonly location: string;
  /** Newest `modified` seen from this source (ISO time), or undefined when it gave nothing. */
  readonly watermark: string | undefined;
  readonly records: number;
  readonly warnings: number;
  readonly updatedAt: string;
}

export interface DbInfo {
  readonly format: string;
  readonly version: string;
  readonly builtAt: string;
  readonly contentHash: string;
  readonly records: number;
  readonly sources: readonly SourceInfo[];
  /** Ecosystem string → number of records naming it. */
  readonly ecosystems: Readonly<Record<string, number>>;
  readonly repositoryCpes: number;
}
