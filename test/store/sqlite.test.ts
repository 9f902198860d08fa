import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newImageRecord } from "../../shared/domain/image-record.js";
import { eq } from "../../shared/store/filter.js";
import { openStore } from "../../shared/store/open-store.js";
import { digestOf, errorCode, storeContract } from "./contract.js";

storeContract("sqlite", () => openStore({ kind: "sqlite", path: ":memory:" }));

describe("sqlite store", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps its data in the file across opens, in WAL mode", async () => {
    const path = join(dir, "nested", "scanhook.sqlite");
    const first = await openStore({ kind: "sqlite", path });
    const record = newImageRecord(digestOf(1), new Date("2025-01-01T00:00:00Z"));
    const etag = await first.images.upsert(record);
    await first.close();
    const second = await openStore({ kind: "sqlite", path });
    expect(await second.images.get(digestOf(1))).toEqual({ doc: record, etag });
    await second.close();
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toEqual("wal");
    db.close();
  });

  it("uses its indexes for the image queries", async () => {
    const path = join(dir, "plan.sqlite");
    const store = await openStore({ kind: "sqlite", path });
    await store.close();
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(path, { readonly: true });
    const plan = (sql: string) =>
      db
        .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((r) => r.detail)
        .join("; ");
    expect(plan(`SELECT id FROM images WHERE json_extract(doc, '$.scan.state') = 'queued'`)).toContain(
      "INDEX images_scan_state"
    );
    expect(plan(`SELECT id FROM images WHERE json_extract(doc, '$.result.dbVersion') = 'none'`)).toContain(
      "INDEX images_result_dbVersion"
    );
    expect(plan(`SELECT id FROM images WHERE id IN (SELECT id FROM images__locationKeys WHERE value = 'a/b')`)).toContain(
      "images__locationKeys"
    );
    expect(plan(`SELECT id FROM images ORDER BY json_extract(doc, '$.lastPulledAt') DESC, id DESC`)).toContain(
      "INDEX images_lastPulledAt"
    );
    db.close();
  });

  it("refuses a continuation token from another query or made up", async () => {
    const store = await openStore({ kind: "sqlite", path: ":memory:" });
    for (let i = 0; i < 5; i++) await store.state.upsert({ id: `s${i}`, k: "a" });
    const first = await store.state.query({ where: [eq("k", "a")] }, { limit: 2 });
    expect(first.continuation === undefined).toEqual(false);
    expect(
      await errorCode(() => store.state.query({ where: [eq("k", "b")] }, { limit: 2, continuation: first.continuation ?? "" }))
    ).toEqual("STORE.INVALID_CONTINUATION");
    expect(await errorCode(() => store.state.query({}, { limit: 2, continuation: "not-a-token" }))).toEqual(
      "STORE.INVALID_CONTINUATION"
    );
    await store.close();
  });
});
