/**
 * The embedded store for one machine (`npm start`): SQLite through better-sqlite3, one file in the
 * data directory, WAL mode so readers never wait for the writer. One table per container,
 * `(id TEXT PRIMARY KEY, etag TEXT, doc TEXT)` with the document as JSON text; the fields queried
 * often get expression indexes, and array fields queried with `contains` get a side table
 * `<container>__<field>` of their elements, kept in step in the same transaction as the write.
 *
 * better-sqlite3 is synchronous: each operation runs to completion when called, which is what makes
 * ETag checks here atomic. It is loaded lazily, so an Azure deployment (Cosmos DB only) never
 * loads the native module.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { ConflictError, describeError, ScanhookError } from "../domain/errors.js";
import { checkDocument, checkId } from "./documents.js";
import { fieldSegments } from "./filter.js";
import { CONTAINER_NAMES, type Container, type ContainerName, type JsonDocument, type PingResult } from "./port.js";
import { arrayTableName, encodeCursor, extractExpr, toSqliteQuery, type SqlValue } from "./sqlite-query.js";
import { updateDocument } from "./update.js";

export interface SqliteStoreOptions {
  /** The database file (its folder is created); `:memory:` for a private in-memory store. */
  path: string;
}

/** Which fields each container indexes. Queries on other fields work, by scanning. */
export const SQLITE_INDEXES: Record<ContainerName, { fields: readonly string[]; arrays: readonly string[] }> = {
  images: {
    fields: ["scan.state", "verdict.overall", "result.dbVersion", "lastPulledAt", "lastPushedAt", "lastScannedAt", "firstSeenAt"],
    arrays: ["locationKeys"]
  },
  changes: { fields: [], arrays: [] },
  state: { fields: [], arrays: [] }
};

type Db = BetterSqlite3.Database;

export interface SqliteStoreHandle {
  containers: Record<ContainerName, Container<JsonDocument>>;
  ping(): Promise<PingResult>;
  close(): Promise<void>;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStoreHandle> {
  let Database: typeof BetterSqlite3;
  try {
    Database = (await import("better-sqlite3")).default;
  } catch (e) {
    throw new ScanhookError("STORE.UNAVAILABLE", `cannot load better-sqlite3: ${describeError(e)}`, { cause: e });
  }
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  let db: Db;
  try {
    db = new Database(options.path, { timeout: 5000 });
    db.pragma("journal_mode = WAL");
    // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
    db.pragma("synchronous = NORMAL");
    for (const name of CONTAINER_NAMES) createSchema(db, name);
  } catch (e) {
    throw new ScanhookError("STORE.UNAVAILABLE", `cannot open SQLite store ${options.path}: ${describeError(e)}`, {
      cause: e,
      meta: { path: options.path }
    });
  }
  const containers = Object.fromEntries(CONTAINER_NAMES.map((n) => [n, sqliteContainer(db, n)])) as Record<
    ContainerName,
    Container<JsonDocument>
  >;
  return {
    containers,
    async ping() {
      const started = performance.now();
      try {
        db.prepare("SELECT 1").get();
        return { ok: true, latencyMs: performance.now() - started };
      } catch (e) {
        return { ok: false, latencyMs: performance.now() - started, error: describeError(e) };
      }
    },
    async close() {
      if (db.open) db.close();
    }
  };
}

function createSchema(db: Db, table: ContainerName): void {
  db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY, etag TEXT NOT NULL, doc TEXT NOT NULL)`);
  for (const field of SQLITE_INDEXES[table].fields) {
    // (value, id) matches the keyset ORDER BY, so a sorted page is an index range scan.
    const name = `${table}_${fieldSegments(field).join("_")}`;
    db.exec(`CREATE INDEX IF NOT EXISTS "${name}" ON "${table}" (${extractExpr(field)}, id)`);
  }
  for (const field of SQLITE_INDEXES[table].arrays) {
    const side = arrayTableName(table, field);
    db.exec(
      `CREATE TABLE IF NOT EXISTS "${side}" (value, type TEXT NOT NULL, id TEXT NOT NULL, ` +
        `PRIMARY KEY (value, type, id)) WITHOUT ROWID`
    );
    db.exec(`CREATE INDEX IF NOT EXISTS "${side}_id" ON "${side}" (id)`);
  }
}

interface Row {
  id: string;
  etag: string;
  doc: string;
  sort?: SqlValue;
}

function valueAt(doc: JsonDocument, field: string): unknown {
  let v: unknown = doc;
  for (const s of fieldSegments(field)) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[s];
  }
  return v;
}

/** An array element as the side table stores it: json_each's value and type. */
function element(v: unknown): { value: SqlValue; type: string } | undefined {
  if (v === null) return { value: null, type: "null" };
  if (typeof v === "boolean") return { value: v ? 1 : 0, type: v ? "true" : "false" };
  if (typeof v === "number") return { value: v, type: Number.isInteger(v) ? "integer" : "real" };
  if (typeof v === "string") return { value: v, type: "text" };
  return undefined;
}

function sqliteContainer(db: Db, table: ContainerName): Container<JsonDocument> {
  const arrays = SQLITE_INDEXES[table].arrays;
  const arraySet = new Set(arrays);
  const s = {
    get: db.prepare<[string], Row>(`SELECT id, etag, doc FROM "${table}" WHERE id = ?`),
    etag: db.prepare<[string], { etag: string }>(`SELECT etag FROM "${table}" WHERE id = ?`),
    upsert: db.prepare<[string, string, string]>(
      `INSERT INTO "${table}" (id, etag, doc) VALUES (?, ?, ?) ` +
        `ON CONFLICT (id) DO UPDATE SET etag = excluded.etag, doc = excluded.doc`
    ),
    create: db.prepare<[string, string, string]>(
      `INSERT INTO "${table}" (id, etag, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`
    ),
    replace: db.prepare<[string, string, string, string]>(
      `UPDATE "${table}" SET etag = ?, doc = ? WHERE id = ? AND etag = ?`
    ),
    delete: db.prepare<[string]>(`DELETE FROM "${table}" WHERE id = ?`),
    deleteIf: db.prepare<[string, string]>(`DELETE FROM "${table}" WHERE id = ? AND etag = ?`)
  };
  const side = arrays.map((field) => ({
    field,
    clear: db.prepare<[string]>(`DELETE FROM "${arrayTableName(table, field)}" WHERE id = ?`),
    add: db.prepare<[SqlValue, string, string]>(
      `INSERT OR IGNORE INTO "${arrayTableName(table, field)}" (value, type, id) VALUES (?, ?, ?)`
    )
  }));

  const syncArrays = (id: string, doc: JsonDocument | undefined): void => {
    for (const t of side) {
      t.clear.run(id);
      const arr = doc === undefined ? undefined : valueAt(doc, t.field);
      if (!Array.isArray(arr)) continue;
      for (const v of arr) {
        const el = element(v);
        if (el !== undefined) t.add.run(el.value, el.type, id);
      }
    }
  };

  // Each is one transaction: the row and its side-table entries change together or not at all.
  const write = db.transaction((mode: "upsert" | "create" | "replace", doc: JsonDocument, etag?: string): string => {
    const next = randomUUID();
    const text = JSON.stringify(doc);
    const changes =
      mode === "upsert"
        ? s.upsert.run(doc.id, next, text).changes
        : mode === "create"
          ? s.create.run(doc.id, next, text).changes
          : s.replace.run(next, text, doc.id, etag ?? "").changes;
    if (changes === 0) {
      throw new ConflictError(
        mode === "create" ? `${table}/${doc.id} already exists` : `${table}/${doc.id} changed or is gone (stale ETag)`,
        { container: table, id: doc.id }
      );
    }
    syncArrays(doc.id, doc);
    return next;
  });
  const remove = db.transaction((id: string, etag: string | undefined): void => {
    const changes = etag === undefined ? s.delete.run(id).changes : s.deleteIf.run(id, etag).changes;
    if (changes === 0 && etag !== undefined && s.etag.get(id) !== undefined) {
      throw new ConflictError(`${table}/${id} changed (stale ETag)`, { container: table, id });
    }
    syncArrays(id, undefined);
  });

  const queries = new Map<string, BetterSqlite3.Statement<SqlValue[], Row>>();

  const container: Container<JsonDocument> = {
    name: table,
    async get(id) {
      checkId(id);
      const row = s.get.get(id);
      return row === undefined ? undefined : { doc: JSON.parse(row.doc) as JsonDocument, etag: row.etag };
    },
    async upsert(doc) {
      checkDocument(doc);
      return write("upsert", doc);
    },
    async create(doc) {
      checkDocument(doc);
      return write("create", doc);
    },
    async replace(doc, etag) {
      checkDocument(doc);
      return write("replace", doc, etag);
    },
    async delete(id, etag) {
      checkId(id);
      remove(id, etag);
    },
    async query(filter, options) {
      const q = toSqliteQuery(table, filter, options.limit, options.continuation, arraySet);
      let stmt = queries.get(q.sql);
      if (stmt === undefined) {
        stmt = db.prepare<SqlValue[], Row>(q.sql);
        // A handful of query shapes repeat for the life of the process; keep their plans.
        if (queries.size < 200) queries.set(q.sql, stmt);
      }
      const rows = stmt.all(...q.params);
      const more = rows.length > options.limit;
      const pageRows = more ? rows.slice(0, options.limit) : rows;
      const items = pageRows.map((r) => JSON.parse(r.doc) as JsonDocument);
      const last = pageRows[pageRows.length - 1];
      if (!more || last === undefined) return { items };
      return { items, continuation: encodeCursor(filter, last.sort ?? null, last.id) };
    },
    update: (id, mutate, options) => updateDocument(container, id, mutate, options)
  };
  return container;
}
