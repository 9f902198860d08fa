/**
 * The filter model spelled as SQLite over a `(id, etag, doc)` table holding JSON text: fields via
 * `json_extract`, arrays via a side table (for indexed array fields) or `json_each`, paging by
 * keyset (the last sort value and id), never OFFSET. JSON types are checked next to every
 * comparison so that `"5"` never equals `5` and a range never crosses types, as in Cosmos DB.
 */
import { createHash } from "node:crypto";
import { ScanhookError } from "../domain/errors.js";
import { checkQuery, fieldSegments, type Condition, type Filter, type Scalar } from "./filter.js";

export type SqlValue = string | number | null;

export interface SqliteQuery {
  sql: string;
  params: SqlValue[];
  /** The expression whose value a continuation token carries; undefined when ordered by id. */
  sortExpression: string | undefined;
}

interface Cursor {
  q: string;
  v: SqlValue;
  id: string;
}

export function jsonPath(field: string): string {
  return `'$.${fieldSegments(field).join(".")}'`;
}
export function extractExpr(field: string): string {
  return `json_extract(doc, ${jsonPath(field)})`;
}

/** The `json_type` names a JS scalar can have. */
export function jsonTypesOf(value: Scalar): string[] {
  if (value === null) return ["null"];
  if (typeof value === "boolean") return [value ? "true" : "false"];
  if (typeof value === "number") return ["integer", "real"];
  return ["text"];
}

function typeCheck(typeExpr: string, value: Scalar): string {
  return `${typeExpr} IN (${jsonTypesOf(value)
    .map((t) => `'${t}'`)
    .join(", ")})`;
}

/** Booleans and null are matched by their JSON type alone; better-sqlite3 binds no booleans. */
function needsValue(value: Scalar): value is string | number {
  return typeof value === "string" || typeof value === "number";
}

/** The side table that indexes the elements of an array field, e.g. `images__locationKeys`. */
export function arrayTableName(table: string, field: string): string {
  return `${table}__${fieldSegments(field).join("_")}`;
}

const OPS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

function queryHash(filter: Filter): string {
  return createHash("sha256").update(JSON.stringify(filter)).digest("hex").slice(0, 12);
}

export function encodeCursor(filter: Filter, v: SqlValue, id: string): string {
  const cursor: Cursor = { q: queryHash(filter), v, id };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(filter: Filter, token: string): Cursor {
  const invalid = () =>
    new ScanhookError("STORE.INVALID_CONTINUATION", "continuation token is invalid or belongs to another query");
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (
    typeof cursor !== "object" ||
    cursor === null ||
    !("q" in cursor && "v" in cursor && "id" in cursor) ||
    cursor.q !== queryHash(filter) ||
    typeof cursor.id !== "string" ||
    !(cursor.v === null || typeof cursor.v === "string" || typeof cursor.v === "number")
  ) {
    throw invalid();
  }
  return { q: cursor.q, v: cursor.v, id: cursor.id };
}

/**
 * One page's SQL. It asks for `limit + 1` rows so the caller knows whether another page follows.
 * `arrayTables` names the array fields that have a side table.
 */
export function toSqliteQuery(
  table: string,
  filter: Filter,
  limit: number,
  continuation: string | undefined,
  arrayTables: ReadonlySet<string> = new Set()
): SqliteQuery {
  checkQuery(filter, limit);
  const params: SqlValue[] = [];
  const clause = (c: Condition): string => {
    const path = jsonPath(c.field);
    if (c.op === "contains") {
      if (arrayTables.has(c.field)) {
        const side = `"${arrayTableName(table, c.field)}"`;
        if (!needsValue(c.value)) return `id IN (SELECT id FROM ${side} WHERE ${typeCheck("type", c.value)})`;
        params.push(c.value);
        return `id IN (SELECT id FROM ${side} WHERE value = ? AND ${typeCheck("type", c.value)})`;
      }
      const valueTest = needsValue(c.value) ? "j.value = ? AND " : "";
      if (needsValue(c.value)) params.push(c.value);
      return (
        `json_type(doc, ${path}) = 'array' AND ` +
        `EXISTS (SELECT 1 FROM json_each(doc, ${path}) AS j WHERE ${valueTest}${typeCheck("j.type", c.value)})`
      );
    }
    const typeTest = typeCheck(`json_type(doc, ${path})`, c.value);
    // Only eq can carry a boolean or null (checkQuery), and those are matched by type alone.
    if (!needsValue(c.value)) return typeTest;
    params.push(c.value);
    return `${extractExpr(c.field)} ${c.op === "eq" ? "=" : OPS[c.op]} ? AND ${typeTest}`;
  };
  const where = (filter.where ?? []).map(clause);
  const sortExpression = filter.orderBy === undefined ? undefined : extractExpr(filter.orderBy.field);
  const desc = filter.orderBy?.direction === "desc";
  // json_extract gives NULL both for a missing field and for JSON null: neither is returned.
  if (sortExpression !== undefined) where.push(`${sortExpression} IS NOT NULL`);
  if (continuation !== undefined) {
    const cursor = decodeCursor(filter, continuation);
    const cmp = desc ? "<" : ">";
    if (sortExpression === undefined) {
      where.push(`id ${cmp} ?`);
      params.push(cursor.id);
    } else {
      where.push(`(${sortExpression} ${cmp} ? OR (${sortExpression} = ? AND id ${cmp} ?))`);
      params.push(cursor.v, cursor.v, cursor.id);
    }
  }
  const dir = desc ? "DESC" : "ASC";
  const order = sortExpression === undefined ? `id ${dir}` : `${sortExpression} ${dir}, id ${dir}`;
  const sortColumn = sortExpression === undefined ? "NULL" : sortExpression;
  const whereText = where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`;
  params.push(limit + 1);
  return {
    sql: `SELECT id, etag, doc, ${sortColumn} AS sort FROM "${table}"${whereText} ORDER BY ${order} LIMIT ?`,
    params,
    sortExpression
  };
}
