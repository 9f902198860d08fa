import { describe, expect, it } from "vitest";
import { toCosmosQuery } from "../../shared/store/cosmos-query.js";
import { contains, eq, gte, lt } from "../../shared/store/filter.js";
import { imageFilter } from "../../shared/store/image-queries.js";
import { toSqliteQuery } from "../../shared/store/sqlite-query.js";

describe("filter translation", () => {
  it("spells a filter as one parameterised Cosmos DB query", () => {
    const filter = {
      where: [eq("scan.state", "queued"), contains("locationKeys", "myacr.azurecr.io/team/api")],
      orderBy: { field: "lastPulledAt", direction: "desc" as const }
    };
    expect(toCosmosQuery(filter)).toEqual({
      query:
        "SELECT * FROM c WHERE c.scan.state = @p0 AND ARRAY_CONTAINS(c.locationKeys, @p1) " +
        "AND IS_DEFINED(c.lastPulledAt) AND NOT IS_NULL(c.lastPulledAt) ORDER BY c.lastPulledAt DESC",
      parameters: [
        { name: "@p0", value: "queued" },
        { name: "@p1", value: "myacr.azurecr.io/team/api" }
      ]
    });
  });

  it("orders by id when no order is given and brackets reserved words", () => {
    expect(toCosmosQuery({ where: [gte("value.order", 3), lt("n", "x")] })).toEqual({
      query: 'SELECT * FROM c WHERE c["value"]["order"] >= @p0 AND c.n < @p1 ORDER BY c.id ASC',
      parameters: [
        { name: "@p0", value: 3 },
        { name: "@p1", value: "x" }
      ]
    });
  });

  it("spells the same filter for SQLite with the side table for indexed arrays and keyset paging", () => {
    const filter = {
      where: [eq("scan.state", "queued"), contains("locationKeys", "r/a"), eq("deleted", false)],
      orderBy: { field: "lastPulledAt", direction: "desc" as const }
    };
    const q = toSqliteQuery("images", filter, 10, undefined, new Set(["locationKeys"]));
    expect(q.sql).toEqual(
      "SELECT id, etag, doc, json_extract(doc, '$.lastPulledAt') AS sort FROM \"images\" WHERE " +
        "json_extract(doc, '$.scan.state') = ? AND json_type(doc, '$.scan.state') IN ('text') AND " +
        "id IN (SELECT id FROM \"images__locationKeys\" WHERE value = ? AND type IN ('text')) AND " +
        "json_type(doc, '$.deleted') IN ('false') AND " +
        "json_extract(doc, '$.lastPulledAt') IS NOT NULL " +
        "ORDER BY json_extract(doc, '$.lastPulledAt') DESC, id DESC LIMIT ?"
    );
    expect(q.params).toEqual(["queued", "r/a", 11]);
  });

  it("the image queries are plain filters, deleted records left out by default", () => {
    expect(
      imageFilter(
        { location: { registry: "r", repository: "a/b" }, verdict: "deny", recency: { by: "lastPushedAt", since: new Date(0) } },
        { by: "lastPushedAt" }
      )
    ).toEqual({
      where: [
        contains("locationKeys", "r/a/b"),
        eq("verdict.overall", "deny"),
        gte("lastPushedAt", "1970-01-01T00:00:00.000Z"),
        eq("deleted", false)
      ],
      orderBy: { field: "lastPushedAt", direction: "desc" }
    });
  });
});
