/**
 * Builds (or incrementally updates) the compiled DB (`format.ts`) from OSV sources. Every record
 * is validated (`osv.ts`); a bad one is skipped and counted, never a failed build. A withdrawn
 * record is dropped (and removes an older copy of itself). The same id from two sources keeps the
 * newest `modified`. The file is written under a temporary name and renamed into place, so a
 * reader never sees half a DB.
 */
import { createHash, hash as oneShotHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { parseOsvText, type OsvRecord } from "../osv.js";
import { normalizeName } from "../names.js";
import { recordFacts, storeFacts } from "../record-facts.js";
import { storeRanges } from "../versions/ranges.js";
import type { RawRecord } from "../sources.js";
import { DB_FORMAT, INDEX_SQL, RECORD_HASH_LENGTH, SCHEMA_SQL, type SourceInfo } from "./format.js";
import { readDbInfo, type StoredVuln } from "./reader.js";

export interface OsvInput {
  /** Stable name, the key of its watermark: `osv:Debian`, `osv-dir:/path`, `npm-bulk`. */
  readonly name: string;
  readonly kind: string;
  readonly location: string;
  readonly records: AsyncIterable<RawRecord>;
}

export interface BuildWarning {
  readonly source: string;
  readonly origin: string;
  readonly reason: string;
}

export interface BuildOptions {
  readonly out: string;
  readonly inputs: readonly OsvInput[];
  /** An existing DB to start from (`db update`); may equal `out`. */
  readonly base?: string;
  /** Red Hat content set → CPEs; undefined keeps the base's table. */
  readonly repositoryCpes?: ReadonlyMap<string, readonly string[]>;
  /** Extra source rows (e.g. the Red Hat map) to record with their watermarks. */
  readonly extraSources?: readonly Omit<SourceInfo, "updatedAt">[];
  readonly now: Date;
  readonly onProgress?: (line: string) => void;
  /** How many warnings are kept with their reasons (all are counted). Default 50. */
  readonly keepWarnings?: number;
}

export interface BuildReport {
  readonly out: string;
  readonly version: string;
  readonly records: number;
  readonly ingested: number;
  readonly withdrawn: number;
  readonly warningCount: number;
  readonly warnings: readonly BuildWarning[];
  readonly sources: readonly SourceInfo[];
}

const PROGRESS_EVERY = 50_000;
const PAGE = 2_000;
/** Records read by id for their severity, remembered at once during a build. */
const LOOKUP_LIMIT = 100_000;

/** `2026-11-23T10:00:00.000Z` → `20261123T100000Z`, the time part of a DB version. */
function compactTime(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** What is kept of a record: everything but prose the findings never show, `affected` apart. */
function stored(record: OsvRecord): { json: string; affected: string } {
  const { details: _details, credits: _credits, affected, ...rest } = record;
  return { json: JSON.stringify(rest), affected: JSON.stringify(affected ?? []) };
}

export async function buildVulnDb(options: BuildOptions): Promise<BuildReport> {
  const progress = options.onProgress ?? ((): void => undefined);
  const keep = options.keepWarnings ?? 50;
  await mkdir(dirname(options.out), { recursive: true });
  const tmp = `${options.out}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  if (options.base !== undefined) {
    readDbInfo(options.base); // refuses a file that is not a scanhook DB before anything is copied
    await copyFile(options.base, tmp);
  }
  const db = new Database(tmp);
  try {
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    if (options.base === undefined) {
      db.exec(SCHEMA_SQL);
      db.prepare("INSERT INTO meta (key, value) VALUES ('format', ?)").run(DB_FORMAT);
    }
    const upsert = db.prepare(
      `INSERT INTO vulns (id, modified, source, json, affected) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, source = excluded.source, json = excluded.json, affected = excluded.affected
       WHERE excluded.modified >= vulns.modified`
    );
    const withdraw = db.prepare("DELETE FROM vulns WHERE id = ? AND modified <= ?");
    const sourceRow = db.prepare("SELECT watermark, records, warnings FROM sources WHERE name = ?");
    const writeSource = db.prepare(
      `INSERT INTO sources (name, kind, location, watermark, records, warnings, updated_at) VALUES (@name, @kind, @location, @watermark, @records, @warnings, @updatedAt)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, location = excluded.location, watermark = excluded.watermark,
         records = excluded.records, warnings = excluded.warnings, updated_at = excluded.updated_at`
    );
    const warnings: BuildWarning[] = [];
    let warningCount = 0;
    let ingested = 0;
    let withdrawn = 0;
    const batch: (() => void)[] = [];
    const flush = db.transaction(() => {
      for (const op of batch) op();
    });
    const runBatch = (): void => {
      flush();
      batch.length = 0;
    };
    for (const input of options.inputs) {
      const before = sourceRow.get(input.name) as { watermark: string | null; records: number; warnings: number } | undefined;
      let watermark = before?.watermark ?? undefined;
      let records = 0;
      let sourceWarnings = 0;
      for await (const raw of input.records) {
        const parsed = "error" in raw ? { ok: false as const, reason: raw.error } : parseOsvText(raw.text);
        if (!parsed.ok) {
          warningCount++;
          sourceWarnings++;
          if (warnings.length < keep) warnings.push({ source: input.name, origin: raw.origin, reason: parsed.reason });
          continue;
        }
        const record = parsed.record;
        const modified = new Date(record.modified).toISOString();
        if (watermark === undefined || modified > watermark) watermark = modified;
        if (record.withdrawn !== undefined && record.withdrawn !== null) {
          withdrawn++;
          batch.push(() => withdraw.run(record.id, modified));
        } else {
          records++;
          const { json, affected } = stored(record);
          batch.push(() => upsert.run(record.id, modified, input.name, json, affected));
        }
        if (batch.length >= PAGE) runBatch();
        if (++ingested % PROGRESS_EVERY === 0) progress(`  ${ingested} records read`);
      }
      runBatch();
      writeSource.run({
        name: input.name,
        kind: input.kind,
        location: input.location,
        watermark: watermark ?? null,
        records,
        warnings: sourceWarnings,
        updatedAt: options.now.toISOString()
      });
      progress(`  ${input.name}: ${records} records, ${sourceWarnings} skipped as invalid`);
    }
    for (const extra of options.extraSources ?? []) {
      writeSource.run({ ...extra, watermark: extra.watermark ?? null, updatedAt: options.now.toISOString() });
    }
    if (options.repositoryCpes !== undefined) {
      const insertCpe = db.prepare("INSERT OR IGNORE INTO repository_cpes (repository, cpe) VALUES (?, ?)");
      db.transaction(() => {
        db.exec("DELETE FROM repository_cpes");
        for (const [repository, cpes] of options.repositoryCpes ?? []) for (const cpe of cpes) insertCpe.run(repository, cpe);
      })();
    }
    const contentHash = derive(db);
    // Counted from what is kept, so an update that replaces records does not count them twice.
    db.exec("UPDATE sources SET records = (SELECT count(*) FROM vulns WHERE vulns.source = sources.name) WHERE kind <> 'redhat-cpe'");
    const total = (db.prepare("SELECT count(*) AS n FROM vulns").get() as { n: number }).n;
    const version = `${compactTime(options.now)}-${contentHash.slice(0, 12)}`;
    const setMeta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    db.transaction(() => {
      setMeta.run("version", version);
      setMeta.run("built_at", options.now.toISOString());
      setMeta.run("content_hash", contentHash);
      setMeta.run("records", String(total));
    })();
    db.close();
    await rename(tmp, options.out);
    const sources = readDbInfo(options.out).sources;
    progress(`built ${options.out}: version ${version}, ${total} records`);
    return { out: options.out, version, records: total, ingested, withdrawn, warningCount, warnings, sources };
  } catch (e) {
    if (db.open) db.close();
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A column of a package row: its entries' values in entry order (record id, then the entry). */
const column = (value: string): string => `'[' || group_concat(${value}, ',' ORDER BY s.vuln, s.entry) || ']'`;
/** A column most packages have no value in: `0` then, not a list of them. */
const sparseColumn = (value: string): string => `CASE WHEN max(${value} <> '0') THEN ${column(value)} ELSE '0' END`;

/** The columns of a package row's `entries` (`format.ts`), grouped from `staged` and the record tables. */
const ENTRIES_SQL = [
  "json_quote(group_concat(d.hash, '' ORDER BY s.vuln, s.entry))",
  column("json_quote(s.vuln)"),
  column("s.ranges"),
  sparseColumn("s.versions"),
  sparseColumn("s.other"),
  sparseColumn("f.fid"),
  sparseColumn("f.aliases"),
  sparseColumn("f.upstream"),
  column("f.severity"),
  column("f.score"),
  column("f.source")
];
/** A package row's `entries`. */
const ENTRIES = `'[' || ${ENTRIES_SQL.join(" || ',' || ")} || ']'`;

/**
 * Rebuilds the derived tables (affected rows, aliases, ecosystem counts) from `vulns`, in id order,
 * and returns the content hash: sha256 over every stored record and the CPE map, so two builds of
 * the same data have the same hash whatever order their sources came in.
 */
function derive(db: Database.Database): string {
  db.exec("DROP INDEX IF EXISTS packages_key; DROP INDEX IF EXISTS aliases_alias; DELETE FROM packages; DELETE FROM aliases; DELETE FROM ecosystems;");
  // Entries are staged a row each in a temporary table (its own file, gone at close), then grouped
  // into one `packages` row per package by SQLite's sort rather than in this process's memory.
  db.function("content_hash", { deterministic: true }, (text: unknown) => createHash("sha256").update(String(text)).digest("hex").slice(0, RECORD_HASH_LENGTH));
  // Every value below is stored as the JSON text it has in a package row: rows are assembled by
  // concatenation. `entry` (all of an entry's JSON) orders a record's entries for one package.
  db.exec(`CREATE TEMP TABLE staged (ecosystem TEXT NOT NULL, name TEXT NOT NULL, vuln TEXT NOT NULL, entry TEXT NOT NULL, ranges TEXT NOT NULL, versions TEXT NOT NULL, other TEXT NOT NULL);
    CREATE TEMP TABLE record_hashes (id TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE record_facts (id TEXT PRIMARY KEY, fid TEXT NOT NULL, aliases TEXT NOT NULL, upstream TEXT NOT NULL, severity TEXT NOT NULL, score TEXT NOT NULL, source TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE alias_pairs (vuln TEXT NOT NULL, alias TEXT NOT NULL);`);
  const insertRecordHash = db.prepare("INSERT INTO record_hashes (id, hash) VALUES (?, ?)");
  const insertRecordFacts = db.prepare("INSERT INTO record_facts (id, fid, aliases, upstream, severity, score, source) VALUES (?, ?, ?, ?, ?, ?, ?)");
  // A record without a severity of its own takes an alias's: those are read by id, a few thousand
  // distinct ones (the CVEs that many advisories name), remembered up to a bound.
  const byId = db.prepare("SELECT json FROM vulns WHERE id = ?").pluck();
  const named = new Map<string, StoredVuln | undefined>();
  const lookup = (id: string): StoredVuln | undefined => {
    if (named.has(id)) return named.get(id);
    const json = byId.get(id) as string | undefined;
    const found = json === undefined ? undefined : (JSON.parse(json) as StoredVuln);
    if (named.size >= LOOKUP_LIMIT) named.clear();
    named.set(id, found);
    return found;
  };
  const insertAliasPair = db.prepare("INSERT INTO alias_pairs (vuln, alias) VALUES (?, ?)");
  const page = db.prepare("SELECT id, modified, json, affected FROM vulns WHERE id > ? ORDER BY id LIMIT ?");
  const insertAffected = db.prepare("INSERT INTO staged (ecosystem, name, vuln, entry, ranges, versions, other) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const insertAlias = db.prepare("INSERT INTO aliases (alias, vuln) VALUES (?, ?)");
  const hash = createHash("sha256");
  const ecosystems = new Map<string, number>();
  let after = "";
  for (;;) {
    const rows = page.all(after, PAGE) as { id: string; modified: string; json: string; affected: string }[];
    if (rows.length === 0) break;
    db.transaction(() => {
      for (const row of rows) {
        hash.update(`${row.id}\0${row.modified}\0${row.json}\0${row.affected}\n`);
        insertRecordHash.run(row.id, oneShotHash("sha256", row.json, "hex").slice(0, RECORD_HASH_LENGTH));
        // Written by this module from a validated record: trusted.
        const record = JSON.parse(row.json) as OsvRecord;
        insertRecordFacts.run(row.id, ...storeFacts(record.id, recordFacts(record, lookup)).map((f) => JSON.stringify(f)));
        const affected = JSON.parse(row.affected) as NonNullable<OsvRecord["affected"]>;
        const seen = new Set<string>();
        for (const entry of affected) {
          if (entry.package === undefined) continue;
          const { package: pkg, ranges, versions, ...other } = entry;
          // The package is the row's key; the record's id, hash and facts are joined in below.
          const parts = [JSON.stringify(storeRanges(ranges)), JSON.stringify(versions ?? 0), JSON.stringify(Object.keys(other).length === 0 ? 0 : other)];
          insertAffected.run(pkg.ecosystem, normalizeName(pkg.ecosystem, pkg.name), record.id, parts.join(","), ...parts);
          seen.add(pkg.ecosystem);
        }
        for (const e of seen) ecosystems.set(e, (ecosystems.get(e) ?? 0) + 1);
        for (const alias of new Set([...(record.aliases ?? []), ...(record.upstream ?? [])])) {
          insertAlias.run(alias, record.id);
          insertAliasPair.run(record.id, alias);
        }
      }
    })();
    after = rows[rows.length - 1]?.id ?? after;
  }
  db.exec(
    // Each entry carries the hash of what a finding from it reads: its record and the records that
    // record names (a finding takes an alias's severity when it has none). A package's hash is
    // then that of its entries: equal hashes, equal findings.
    `CREATE INDEX temp.alias_pairs_vuln ON alias_pairs (vuln);
     CREATE TEMP TABLE record_deps AS
       SELECT r.id AS id, content_hash(r.hash || coalesce((SELECT group_concat(p.alias || ':' || h.hash, ',' ORDER BY p.alias) FROM alias_pairs p JOIN record_hashes h ON h.id = p.alias WHERE p.vuln = r.id), '')) AS hash
       FROM record_hashes r;
     CREATE UNIQUE INDEX temp.record_deps_id ON record_deps (id);
     INSERT INTO packages (ecosystem, name, hash, entries)
     SELECT ecosystem, name, content_hash(entries), entries FROM (
       SELECT s.ecosystem, s.name, ${ENTRIES} AS entries
       FROM staged s JOIN record_deps d ON d.id = s.vuln JOIN record_facts f ON f.id = s.vuln GROUP BY s.ecosystem, s.name ORDER BY s.ecosystem, s.name
     );
     DROP TABLE temp.record_deps; DROP TABLE temp.alias_pairs; DROP TABLE temp.record_hashes; DROP TABLE temp.record_facts; DROP TABLE temp.staged;`
  );
  const insertEco = db.prepare("INSERT INTO ecosystems (ecosystem, records) VALUES (?, ?)");
  db.transaction(() => {
    for (const [e, n] of ecosystems) insertEco.run(e, n);
  })();
  for (const row of db.prepare("SELECT repository, cpe FROM repository_cpes ORDER BY repository, cpe").iterate() as Iterable<{ repository: string; cpe: string }>) {
    hash.update(`cpe\0${row.repository}\0${row.cpe}\n`);
  }
  db.exec(INDEX_SQL);
  db.exec("ANALYZE");
  return hash.digest("hex");
}
