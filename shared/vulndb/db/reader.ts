/**
 * Reads a compiled DB (`format.ts`). Opened read-only; a package's entries are one point read. The
 * matcher keeps what it compiled from them (a rematch of a thousand images asks for the same few
 * thousand packages again and again); records, aliases and CPEs are remembered here.
 */
import Database from "better-sqlite3";
import { ScanhookError } from "../../domain/errors.js";
import type { OsvAffected, OsvRecord } from "../osv.js";
import type { Severity } from "../../domain/image-record.js";
import { NO_IDS, sourceOf, type FactColumns } from "../record-facts.js";
import type { StoredRanges } from "../versions/ranges.js";
import { DB_FORMAT, type DbInfo, type SourceInfo } from "./format.js";

/**
 * A package's `affected[]` entries as the DB keeps them, column by column (entry `i` is the `i`th
 * of each), in record-id order: what the matcher compiles, without an object per entry.
 */
export interface PackageEntries {
  readonly vulnIds: readonly string[];
  /**
   * Each entry's hash of what a finding from it reads (its record and the records that one names):
   * 16 characters per entry, in entry order (`format.ts` `recordHashOf`), one string, not one per entry.
   */
  readonly recordHashes: string;
  /** As the build stored them (`ranges.ts` `storeRanges`), which `CompiledEntries` reads as they are. */
  readonly ranges: readonly StoredRanges[];
  readonly versions: readonly (readonly string[] | undefined)[];
  /** Each entry's fields besides `package`, `ranges` and `versions` (`ecosystem_specific`, …). */
  readonly others: readonly OsvAffected[];
  /** The entries' records' facts as the only record of a finding (`record-facts.ts`); undefined when the data has none, and the matcher reads the records. */
  readonly facts: FactColumns | undefined;
}

const NO_ENTRIES: PackageEntries = Object.freeze({ vulnIds: [], recordHashes: "", ranges: [], versions: [], others: [], facts: undefined });

const NO_FIELDS: OsvAffected = Object.freeze({});

/** A package row's `entries` (`format.ts`), column by column, as the build wrote them. */
type StoredColumns = [
  recordHashes: string,
  vulnIds: string[],
  ranges: StoredRanges[],
  versions: (string[] | 0)[] | 0,
  others: (OsvAffected | 0)[] | 0,
  ids: (string | 0)[] | 0,
  aliases: (string[] | 0)[] | 0,
  upstream: (string[] | 0)[] | 0,
  severity: Severity[],
  score: (number | null)[],
  source: string[]
];

/** `xs` with every `0` replaced by `none`, in place; a column of `n` of them when `xs` is `0`. */
function filled<T>(xs: (T | 0)[] | 0, none: T, n: number): T[] {
  if (xs === 0) return new Array<T>(n).fill(none);
  for (let i = 0; i < n; i++) if (xs[i] === 0) xs[i] = none;
  return xs as T[];
}

/**
 * A package row read back: its columns are the arrays `JSON.parse` makes, with `0` (absent)
 * filled in where the matcher reads a value — no object per entry. Written by the build from
 * validated records: trusted.
 */
function decodeEntries(text: string): PackageEntries {
  const [recordHashes, vulnIds, ranges, versions, others, ids, aliases, upstream, severity, score, source] = JSON.parse(text) as StoredColumns;
  const n = vulnIds.length;
  // The record's own id and empty lists are shared, not kept per entry.
  const factIds = ids === 0 ? vulnIds : ids;
  if (ids !== 0) for (let i = 0; i < n; i++) if (ids[i] === 0) ids[i] = vulnIds[i] as string;
  for (let i = 0; i < n; i++) source[i] = sourceOf(source[i] as string, vulnIds[i] as string);
  return {
    vulnIds,
    recordHashes,
    ranges,
    versions: filled<string[] | undefined>(versions, undefined, n),
    others: filled(others, NO_FIELDS, n),
    facts: { ids: factIds as string[], aliases: filled(aliases, NO_IDS, n), upstream: filled(upstream, NO_IDS, n), severity, score, source }
  };
}

/** Most records a reader keeps parsed. */
const VULN_CACHE_LIMIT = 200_000;

/** A record as a match reads it: everything but `affected` (see `affected()`) and prose (`details`, `credits`). */
export type StoredVuln = Omit<OsvRecord, "details" | "credits" | "affected">;

export class VulnDb {
  readonly path: string;
  readonly info: DbInfo;
  private readonly db: Database.Database;
  private readonly vulns = new Map<string, StoredVuln | null>();
  private readonly aliasMap = new Map<string, readonly string[]>();
  private readonly cpeMap = new Map<string, readonly string[]>();
  private readonly affectedStmt: Database.Statement;
  private readonly hashesStmt: Database.Statement;
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly vulnStmt: Database.Statement;
  private readonly vulnsStmt: Database.Statement;
  private readonly aliasStmt: Database.Statement;
  private readonly cpeStmt: Database.Statement;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    // Read-only and read at random by a rematch: mapped, a point read costs no read() calls.
    db.pragma("mmap_size = 1073741824");
    this.info = infoOf(db, path);
    this.affectedStmt = db.prepare("SELECT entries FROM packages WHERE ecosystem = ? AND name = ?").pluck();
    this.hashesStmt = db.prepare("SELECT name, hash FROM packages WHERE ecosystem = ?");
    this.vulnStmt = db.prepare("SELECT json FROM vulns WHERE id = ?");
    this.vulnsStmt = db.prepare("SELECT id, json FROM vulns WHERE id IN (SELECT value FROM json_each(?))");
    this.aliasStmt = db.prepare("SELECT vuln FROM aliases WHERE alias = ?");
    this.cpeStmt = db.prepare("SELECT cpe FROM repository_cpes WHERE repository = ?");
  }

  /** Opens `path` read-only; throws `VULNDB.INVALID` when it is not a scanhook DB of this format. */
  static open(path: string): VulnDb {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw new ScanhookError("VULNDB.INVALID", `cannot open vulnerability DB ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      return new VulnDb(path, db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  get version(): string {
    return this.info.version;
  }

  /** Number of records naming this exact ecosystem string (`Debian:12`, `npm`). */
  ecosystemRecords(ecosystem: string): number {
    return this.info.ecosystems[ecosystem] ?? 0;
  }

  /** The `affected[]` entries for a package; `name` already normalised. Empty when none. */
  affected(ecosystem: string, name: string): PackageEntries {
    const text = this.affectedStmt.get(ecosystem, name) as string | undefined;
    return text === undefined ? NO_ENTRIES : decodeEntries(text);
  }

  /**
   * The content hash of a package's entries and the records they read (`format.ts`), or undefined
   * when it has none. An ecosystem's hashes are read in one pass the first time one is asked for:
   * a rematch asks for most of them.
   */
  packageHash(ecosystem: string, name: string): string | undefined {
    let hashes = this.hashes.get(ecosystem);
    if (hashes === undefined) {
      hashes = new Map((this.hashesStmt.all(ecosystem) as { name: string; hash: string }[]).map((r) => [r.name, r.hash]));
      this.hashes.set(ecosystem, hashes);
    }
    return hashes.get(name);
  }

  /** A record by id, or undefined. */
  vuln(id: string): StoredVuln | undefined {
    let v = this.vulns.get(id);
    if (v === undefined) {
      const row = this.vulnStmt.get(id) as { json: string } | undefined;
      v = row === undefined ? null : (JSON.parse(row.json) as StoredVuln);
      this.remember(id, v);
    }
    return v ?? undefined;
  }

  /**
   * Reads the records among `ids` not yet remembered, in one statement: a finding group reads a
   * dozen records, and a statement costs more than the reading.
   */
  prefetch(ids: readonly string[]): void {
    const missing = ids.filter((id) => !this.vulns.has(id));
    if (missing.length < 2) return;
    const found = new Map((this.vulnsStmt.all(JSON.stringify(missing)) as { id: string; json: string }[]).map((r) => [r.id, r.json]));
    for (const id of missing) {
      const json = found.get(id);
      this.remember(id, json === undefined ? null : (JSON.parse(json) as StoredVuln));
    }
  }

  /** Records are remembered up to a bound (a full OSV DB holds far more than a rematch needs at once). */
  private remember(id: string, v: StoredVuln | null): void {
    if (this.vulns.size >= VULN_CACHE_LIMIT) this.vulns.clear();
    this.vulns.set(id, v);
  }

  /** Ids of records that name `alias` in their `aliases` or `upstream`. */
  recordsNaming(alias: string): readonly string[] {
    let ids = this.aliasMap.get(alias);
    if (ids === undefined) {
      ids = (this.aliasStmt.all(alias) as { vuln: string }[]).map((r) => r.vuln);
      this.aliasMap.set(alias, ids);
    }
    return ids;
  }

  /** CPEs of a Red Hat content set (repository id), from repository-to-cpe.json. */
  cpesOfRepository(repository: string): readonly string[] {
    let cpes = this.cpeMap.get(repository);
    if (cpes === undefined) {
      cpes = (this.cpeStmt.all(repository) as { cpe: string }[]).map((r) => r.cpe);
      this.cpeMap.set(repository, cpes);
    }
    return cpes;
  }

  close(): void {
    this.db.close();
  }
}

function infoOf(db: Database.Database, path: string): DbInfo {
  let meta: Map<string, string>;
  try {
    meta = new Map((db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  } catch (e) {
    throw new ScanhookError("VULNDB.INVALID", `${path} is not a scanhook vulnerability DB: ${(e as Error).message}`, { cause: e });
  }
  const format = meta.get("format");
  if (format !== DB_FORMAT) throw new ScanhookError("VULNDB.INVALID", `${path}: DB format ${format ?? "(none)"} is not ${DB_FORMAT}; rebuild it`);
  const sources = (
    db.prepare("SELECT name, kind, location, watermark, records, warnings, updated_at FROM sources ORDER BY name").all() as {
      name: string;
      kind: string;
      location: string;
      watermark: string | null;
      records: number;
      warnings: number;
      updated_at: string;
    }[]
  ).map(
    (r): SourceInfo => ({
      name: r.name,
      kind: r.kind,
      location: r.location,
      watermark: r.watermark ?? undefined,
      records: r.records,
      warnings: r.warnings,
      updatedAt: r.updated_at
    })
  );
  const ecosystems = Object.fromEntries((db.prepare("SELECT ecosystem, records FROM ecosystems ORDER BY ecosystem").all() as { ecosystem: string; records: number }[]).map((r) => [r.ecosystem, r.records]));
  const repositoryCpes = (db.prepare("SELECT count(*) AS n FROM repository_cpes").get() as { n: number }).n;
  return {
    format,
    version: meta.get("version") ?? "unbuilt",
    builtAt: meta.get("built_at") ?? "",
    contentHash: meta.get("content_hash") ?? "",
    records: Number(meta.get("records") ?? "0"),
    sources,
    ecosystems,
    repositoryCpes
  };
}

/** The info of a DB file without keeping it open. */
export function readDbInfo(path: string): DbInfo {
  const db = VulnDb.open(path);
  try {
    return db.info;
  } finally {
    db.close();
  }
}
