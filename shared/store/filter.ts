/**
 * The typed filter model shared by both engines: an AND of conditions on dotted field paths and at
 * most one ORDER BY field. It is deliberately small: everything in it translates to a
 * parameterised Cosmos DB query that `@vercel/cosmosdb-server` also answers, and to SQLite's
 * `json_extract`/`json_each`. Values are always bound as parameters; field paths are validated
 * and then spelled into the query text (both engines need them there to use an index).
 */
import { ScanhookError } from "../domain/errors.js";

export type Scalar = string | number | boolean | null;

export type Condition =
  /** The field equals the value (same JSON type). */
  | { field: string; op: "eq"; value: Scalar }
  /** The field is an array holding the value. */
  | { field: string; op: "contains"; value: Scalar }
  /** Range on strings (ISO times sort as strings) or numbers; a field of another type never matches. */
  | { field: string; op: "gt" | "gte" | "lt" | "lte"; value: string | number };

export interface OrderBy {
  field: string;
  direction: "asc" | "desc";
}

export interface Filter {
  /** All must hold; empty or absent: every document. */
  where?: readonly Condition[];
  /** Absent: by id. Ties are broken by id (SQLite) or by the engine's own order (Cosmos DB). */
  orderBy?: OrderBy;
}

export const eq = (field: string, value: Scalar): Condition => ({ field, op: "eq", value });
export const contains = (field: string, value: Scalar): Condition => ({ field, op: "contains", value });
export const gt = (field: string, value: string | number): Condition => ({ field, op: "gt", value });
export const gte = (field: string, value: string | number): Condition => ({ field, op: "gte", value });
export const lt = (field: string, value: string | number): Condition => ({ field, op: "lt", value });
export const lte = (field: string, value: string | number): Condition => ({ field, op: "lte", value });

const SEGMENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The path's segments; throws `STORE.INVALID_FILTER` for anything but `a.b.c` identifiers. */
export function fieldSegments(field: string): string[] {
  const segments = field.split(".");
  if (segments.length > 8 || !segments.every((s) => SEGMENT.test(s))) {
    throw new ScanhookError("STORE.INVALID_FILTER", `invalid field path "${field}"`, { meta: { field } });
  }
  return segments;
}

export const MAX_PAGE_SIZE = 1000;

/** Validates a filter and a page size once, before either engine translates them. */
export function checkQuery(filter: Filter, limit: number): void {
  for (const c of filter.where ?? []) {
    fieldSegments(c.field);
    const okValue =
      c.op === "eq" || c.op === "contains"
        ? c.value === null || ["string", "number", "boolean"].includes(typeof c.value)
        : typeof c.value === "string" || typeof c.value === "number";
    if (!okValue || (typeof c.value === "number" && !Number.isFinite(c.value))) {
      throw new ScanhookError("STORE.INVALID_FILTER", `invalid value for ${c.op} on "${c.field}"`, {
        meta: { field: c.field, op: c.op }
      });
    }
  }
  if (filter.orderBy !== undefined) fieldSegments(filter.orderBy.field);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ScanhookError("STORE.INVALID_FILTER", `page size must be 1–${MAX_PAGE_SIZE}, not ${limit}`, {
      meta: { limit }
    });
  }
}
