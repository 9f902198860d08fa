/**
 * The filter model spelled as Cosmos DB NoSQL: one parameterised `SELECT * FROM c WHERE … ORDER BY
 * …`. Uses only what `@vercel/cosmosdb-server` answers as Cosmos DB does: comparisons,
 * `ARRAY_CONTAINS`, `IS_DEFINED`/`IS_NULL` and a single-field ORDER BY (no OFFSET, no GROUP BY).
 */
import { checkQuery, fieldSegments, type Condition, type Filter } from "./filter.js";

export interface CosmosQuerySpec {
  query: string;
  parameters: { name: string; value: string | number | boolean | null }[];
}

// Words Cosmos SQL reserves; a property named like one must be written c["name"].
const RESERVED = new Set(
  [
    "and", "array", "as", "asc", "between", "by", "case", "cast", "convert", "cross", "desc", "distinct",
    "else", "end", "escape", "exists", "false", "for", "from", "group", "having", "in", "inner", "insert",
    "into", "is", "join", "left", "like", "limit", "not", "null", "offset", "on", "or", "order", "outer",
    "over", "right", "select", "set", "then", "top", "true", "udf", "undefined", "update", "value", "when",
    "where", "with"
  ]
);

export function cosmosRef(field: string): string {
  return fieldSegments(field)
    .map((s) => (RESERVED.has(s.toLowerCase()) ? `["${s}"]` : `.${s}`))
    .reduce((acc, s) => acc + s, "c");
}

const OPS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

/** Translates a filter (validated here) into a parameterised Cosmos DB query. */
export function toCosmosQuery(filter: Filter): CosmosQuerySpec {
  checkQuery(filter, 1);
  const parameters: CosmosQuerySpec["parameters"] = [];
  const bind = (value: string | number | boolean | null): string => {
    const name = `@p${parameters.length}`;
    parameters.push({ name, value });
    return name;
  };
  const clause = (c: Condition): string => {
    const ref = cosmosRef(c.field);
    switch (c.op) {
      case "eq":
        return `${ref} = ${bind(c.value)}`;
      case "contains":
        return `ARRAY_CONTAINS(${ref}, ${bind(c.value)})`;
      default:
        return `${ref} ${OPS[c.op]} ${bind(c.value)}`;
    }
  };
  const where = (filter.where ?? []).map(clause);
  let order = "ORDER BY c.id ASC";
  if (filter.orderBy !== undefined) {
    const ref = cosmosRef(filter.orderBy.field);
    // Cosmos DB's own treatment of documents lacking the ORDER BY field has changed over time;
    // excluding them explicitly gives the same answer on every engine.
    where.push(`IS_DEFINED(${ref})`, `NOT IS_NULL(${ref})`);
    order = `ORDER BY ${ref} ${filter.orderBy.direction.toUpperCase()}`;
  }
  const whereText = where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`;
  return { query: `SELECT * FROM c${whereText} ${order}`, parameters };
}
