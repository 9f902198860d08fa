/**
 * The store contract: one suite, run unchanged against every adapter (SQLite and Cosmos DB). An
 * adapter passes only if it behaves like the others on every operation, query and conflict.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDigest, type Digest } from "../../shared/domain/digest.js";
import { ScanhookError } from "../../shared/domain/errors.js";
import { newImageRecord, withLocation, type ImageRecord, type ScanResult } from "../../shared/domain/image-record.js";
import { NO_DB_VERSION } from "../../shared/domain/match.js";
import { contains, eq, gt, gte, lt, lte, type Filter } from "../../shared/store/filter.js";
import {
  listImages,
  listImagesByLocation,
  listImagesByScanState,
  listImagesByVerdict,
  listRecentImages
} from "../../shared/store/image-queries.js";
import type { Container, JsonDocument, Page, Store } from "../../shared/store/port.js";

export type StoreFactory = () => Promise<Store<ImageRecord>>;

/** The code of what `f` throws (a ScanhookError), or "no error". */
export async function errorCode(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof ScanhookError) return e.code;
    throw e;
  }
  return "no error";
}

/** Every page of a query, following continuation tokens; checks no page exceeds the limit. */
export async function collect<T extends { id: string }>(
  container: Container<T>,
  filter: Filter,
  limit: number
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let continuation: string | undefined;
  let pages = 0;
  do {
    const page: Page<T> = await container.query(filter, { limit, ...(continuation === undefined ? {} : { continuation }) });
    pages++;
    expect(page.items.length <= limit).toEqual(true);
    ids.push(...page.items.map((d) => d.id));
    continuation = page.continuation;
    if (pages > 100) throw new Error("paging does not end");
  } while (continuation !== undefined);
  return { ids, pages };
}

export function digestOf(n: number): Digest {
  const d = parseDigest(`sha256:${n.toString(16).padStart(64, "0")}`);
  if (d === undefined) throw new Error("bad test digest");
  return d;
}

function day(n: number): Date {
  return new Date(Date.UTC(2025, 0, n, 12));
}

/** Documents for the generic query tests; ids sort as d00, d01, … */
function sampleDocs(): JsonDocument[] {
  return Array.from({ length: 11 }, (_, i) => ({
    id: `d${String(i).padStart(2, "0")}`,
    n: i,
    kind: i % 2 === 0 ? "even" : "odd",
    tags: i % 3 === 0 ? ["three", `t${i}`] : [`t${i}`],
    nested: { group: i < 6 ? "low" : "high" },
    flag: i % 4 === 0,
    ...(i % 5 === 0 ? {} : { at: day(i + 1).toISOString() }),
    tie: "same"
  }));
}

export function storeContract(name: string, open: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let store: Store<ImageRecord>;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    describe("documents", () => {
      it("get of an absent id is undefined; upsert writes, get reads it back exactly with its ETag", async () => {
        const c = store.state;
        expect(await c.get("cursor:acr")).toEqual(undefined);
        const doc = { id: "cursor:acr", position: 42, nested: { list: [1, "two", null, true] } };
        const etag = await c.upsert(doc);
        expect(await c.get("cursor:acr")).toEqual({ doc, etag });
        const etag2 = await c.upsert({ ...doc, position: 43 });
        expect(etag2 === etag).toEqual(false);
        expect(await c.get("cursor:acr")).toEqual({ doc: { ...doc, position: 43 }, etag: etag2 });
      });

      it("create writes only when absent", async () => {
        const c = store.changes;
        const etag = await c.create({ id: "c1", v: 1 });
        expect(await errorCode(() => c.create({ id: "c1", v: 2 }))).toEqual("STORE.CONFLICT");
        expect(await c.get("c1")).toEqual({ doc: { id: "c1", v: 1 }, etag });
      });

      it("replace with the current ETag writes; a stale ETag or a missing document is a conflict", async () => {
        const c = store.state;
        const first = await c.upsert({ id: "k", v: 1 });
        const second = await c.replace({ id: "k", v: 2 }, first);
        expect(await errorCode(() => c.replace({ id: "k", v: 3 }, first))).toEqual("STORE.CONFLICT");
        expect(await c.get("k")).toEqual({ doc: { id: "k", v: 2 }, etag: second });
        expect(await errorCode(() => c.replace({ id: "missing", v: 1 }, first))).toEqual("STORE.CONFLICT");
        expect(await c.get("missing")).toEqual(undefined);
      });

      it("delete succeeds when absent, refuses a stale ETag, and removes with the current one or none", async () => {
        const c = store.state;
        await c.delete("never-there");
        await c.delete("never-there", "some-etag");
        const e1 = await c.upsert({ id: "a", v: 1 });
        await c.upsert({ id: "a", v: 2 });
        expect(await errorCode(() => c.delete("a", e1))).toEqual("STORE.CONFLICT");
        expect((await c.get("a"))?.doc).toEqual({ id: "a", v: 2 });
        const current = await c.get("a");
        await c.delete("a", current?.etag);
        expect(await c.get("a")).toEqual(undefined);
        await c.upsert({ id: "b", v: 1 });
        await c.delete("b");
        expect(await c.get("b")).toEqual(undefined);
      });

      it("the containers are separate", async () => {
        await store.state.upsert({ id: "same", in: "state" });
        await store.changes.upsert({ id: "same", in: "changes" });
        expect((await store.state.get("same"))?.doc).toEqual({ id: "same", in: "state" });
        expect((await store.changes.get("same"))?.doc).toEqual({ id: "same", in: "changes" });
      });

      it("refuses ids Cosmos DB refuses, on every engine", async () => {
        expect(await errorCode(() => store.state.upsert({ id: "a/b" }))).toEqual("STORE.INVALID_ID");
        expect(await errorCode(() => store.state.get(""))).toEqual("STORE.INVALID_ID");
        expect(await errorCode(() => store.state.delete("x#y"))).toEqual("STORE.INVALID_ID");
      });

      it("answers ping", async () => {
        expect((await store.ping()).ok).toEqual(true);
      });
    });

    describe("update and conflicts", () => {
      it("creates through mutate(undefined), writes nothing when mutate returns undefined", async () => {
        const c = store.state;
        expect(await c.update("u", () => undefined)).toEqual(undefined);
        expect(await c.get("u")).toEqual(undefined);
        const created = await c.update("u", (cur) => ({ id: "u", count: cur === undefined ? 1 : 0 }));
        expect(created?.doc).toEqual({ id: "u", count: 1 });
        const unchanged = await c.update("u", () => undefined);
        expect(unchanged).toEqual(created);
        const next = await c.update("u", (cur) => (cur === undefined ? undefined : { ...cur, count: Number(cur["count"]) + 1 }));
        expect(await c.get("u")).toEqual({ doc: { id: "u", count: 2 }, etag: next?.etag });
      });

      it("update refuses a mutate that changes the id", async () => {
        await store.state.upsert({ id: "fixed", v: 1 });
        expect(await errorCode(() => store.state.update("fixed", () => ({ id: "other", v: 2 })))).toEqual(
          "STORE.INVALID_UPDATE"
        );
        expect(await store.state.get("other")).toEqual(undefined);
      });

      it("an update that meets another writer's change conflicts, reads again and lands both", async () => {
        const c = store.state;
        await c.upsert({ id: "counter", count: 0 });
        let calls = 0;
        const increment = async (cur: JsonDocument | undefined): Promise<JsonDocument> => {
          calls++;
          if (cur === undefined) throw new Error("counter vanished");
          // The first time, another process writes between this read and this write.
          if (calls === 1) {
            const theirs = await c.get("counter");
            if (theirs === undefined) throw new Error("counter vanished");
            await c.replace({ ...theirs.doc, count: Number(theirs.doc["count"]) + 1 }, theirs.etag);
          }
          return { ...cur, count: Number(cur["count"]) + 1 };
        };
        await c.update("counter", increment);
        expect((await c.get("counter"))?.doc).toEqual({ id: "counter", count: 2 });
        expect(calls).toEqual(2);
      });

      it("concurrent updates of one document in one process run one after another, each once", async () => {
        const c = store.state;
        await c.upsert({ id: "burst", count: 0 });
        let calls = 0;
        const increment = async (cur: JsonDocument | undefined): Promise<JsonDocument> => {
          calls++;
          if (cur === undefined) throw new Error("burst vanished");
          return { ...cur, count: Number(cur["count"]) + 1 };
        };
        await Promise.all(Array.from({ length: 25 }, () => c.update("burst", increment)));
        expect((await c.get("burst"))?.doc).toEqual({ id: "burst", count: 25 });
        expect(calls).toEqual(25);
      });

      it("a stale write racing a fresh one fails with ConflictError and leaves the fresh one", async () => {
        const c = store.state;
        await c.upsert({ id: "race", owner: "none" });
        const a = await c.get("race");
        const b = await c.get("race");
        if (a === undefined || b === undefined) throw new Error("document missing");
        await c.replace({ ...b.doc, owner: "fresh" }, b.etag);
        expect(await errorCode(() => c.replace({ ...a.doc, owner: "stale" }, a.etag))).toEqual("STORE.CONFLICT");
        expect((await c.get("race"))?.doc).toEqual({ id: "race", owner: "fresh" });
      });

      it("update gives up with ConflictError after maxAttempts", async () => {
        const c = store.state;
        await c.upsert({ id: "busy", v: 0 });
        let calls = 0;
        const code = await errorCode(() =>
          c.update(
            "busy",
            async (cur) => {
              calls++;
              // Someone else writes between every read and write of ours.
              await c.upsert({ id: "busy", v: -calls });
              return { id: "busy", v: Number(cur?.["v"]) + 100 };
            },
            { maxAttempts: 3 }
          )
        );
        expect({ code, calls }).toEqual({ code: "STORE.CONFLICT", calls: 3 });
        expect((await c.get("busy"))?.doc).toEqual({ id: "busy", v: -3 });
      });
    });

    describe("queries", () => {
      beforeEach(async () => {
        for (const d of sampleDocs()) await store.changes.upsert(d);
      });
      const ids = (...ns: number[]) => ns.map((i) => `d${String(i).padStart(2, "0")}`);

      it("with no condition returns everything by id, across pages", async () => {
        expect(await collect(store.changes, {}, 3)).toEqual({ ids: ids(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), pages: 4 });
      });

      it("equality on a string, a nested field, a number, a boolean", async () => {
        expect((await collect(store.changes, { where: [eq("kind", "odd")] }, 2)).ids).toEqual(ids(1, 3, 5, 7, 9));
        expect((await collect(store.changes, { where: [eq("nested.group", "high")] }, 2)).ids).toEqual(
          ids(6, 7, 8, 9, 10)
        );
        expect((await collect(store.changes, { where: [eq("n", 4)] }, 2)).ids).toEqual(ids(4));
        expect((await collect(store.changes, { where: [eq("flag", true)] }, 2)).ids).toEqual(ids(0, 4, 8));
        expect((await collect(store.changes, { where: [eq("flag", false)] }, 5)).ids).toEqual(
          ids(1, 2, 3, 5, 6, 7, 9, 10)
        );
      });

      it("equality respects JSON types", async () => {
        expect((await collect(store.changes, { where: [eq("n", "4")] }, 2)).ids).toEqual([]);
        expect((await collect(store.changes, { where: [eq("flag", 1)] }, 2)).ids).toEqual([]);
      });

      it("array contains, on an array and never on a non-array", async () => {
        expect(await collect(store.changes, { where: [contains("tags", "three")] }, 2)).toEqual({
          ids: ids(0, 3, 6, 9),
          pages: 2
        });
        expect((await collect(store.changes, { where: [contains("tags", "t7")] }, 2)).ids).toEqual(ids(7));
        expect((await collect(store.changes, { where: [contains("kind", "odd")] }, 2)).ids).toEqual([]);
      });

      it("ranges on numbers and on ISO times, never across types", async () => {
        expect((await collect(store.changes, { where: [gte("n", 3), lt("n", 6)] }, 2)).ids).toEqual(ids(3, 4, 5));
        expect((await collect(store.changes, { where: [gt("n", 8)] }, 2)).ids).toEqual(ids(9, 10));
        expect((await collect(store.changes, { where: [lte("n", 1)] }, 2)).ids).toEqual(ids(0, 1));
        const since = day(7).toISOString();
        expect((await collect(store.changes, { where: [gte("at", since)] }, 2)).ids).toEqual(ids(6, 7, 8, 9));
        expect((await collect(store.changes, { where: [gte("n", "0")] }, 2)).ids).toEqual([]);
      });

      it("AND of several kinds of condition", async () => {
        const filter: Filter = { where: [eq("kind", "even"), contains("tags", "three"), gte("n", 1)] };
        expect((await collect(store.changes, filter, 1)).ids).toEqual(ids(6));
      });

      it("orders by a field ascending and descending, leaving out documents without it, across pages", async () => {
        expect(await collect(store.changes, { orderBy: { field: "at", direction: "desc" } }, 3)).toEqual({
          ids: ids(9, 8, 7, 6, 4, 3, 2, 1),
          pages: 3
        });
        expect(
          (await collect(store.changes, { where: [eq("kind", "odd")], orderBy: { field: "n", direction: "desc" } }, 2))
            .ids
        ).toEqual(ids(9, 7, 5, 3, 1));
        expect(
          (await collect(store.changes, { where: [gte("at", day(3).toISOString())], orderBy: { field: "at", direction: "asc" } }, 2))
            .ids
        ).toEqual(ids(2, 3, 4, 6, 7, 8, 9));
      });

      it("pages through ties on the sort field without losing or repeating a document", async () => {
        const { ids: got, pages } = await collect(store.changes, { orderBy: { field: "tie", direction: "asc" } }, 2);
        expect(pages >= 6).toEqual(true);
        expect([...got].sort()).toEqual(ids(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
      });

      it("an empty result is one empty page without continuation", async () => {
        expect(await store.changes.query({ where: [eq("kind", "none")] }, { limit: 5 })).toEqual({ items: [] });
      });

      it("returns whole documents", async () => {
        const page = await store.changes.query({ where: [eq("n", 3)] }, { limit: 5 });
        expect(page).toEqual({ items: [sampleDocs()[3]] });
      });

      it("refuses a field path that is not a plain dotted path, and a bad page size", async () => {
        expect(await errorCode(() => store.changes.query({ where: [eq("n; DROP", 1)] }, { limit: 5 }))).toEqual(
          "STORE.INVALID_FILTER"
        );
        expect(await errorCode(() => store.changes.query({}, { limit: 0 }))).toEqual("STORE.INVALID_FILTER");
      });
    });

    describe("images", () => {
      const registry = "myacr.azurecr.io";
      const scanResult = (i: number, dbVersion: string): ScanResult => ({
        analyzers: { "os/dpkg": "1" },
        sbom: { blob: `sboms/sha256/${i}.cdx.json`, mediaType: "application/vnd.cyclonedx+json" },
        packageCounts: {},
        findings: [],
        coverageGaps: [],
        indexedAt: day(i).toISOString(),
        dbVersion,
        matchedAt: day(i).toISOString()
      });
      /**
       * 12 records: locations, states, verdicts, times and results (never matched: 6, 8 and the
       * deleted 12; matched by db1: 5, 7, 9) spread so each query has several pages.
       */
      async function seedImages(): Promise<ImageRecord[]> {
        const records: ImageRecord[] = [];
        for (let i = 1; i <= 12; i++) {
          let r = newImageRecord(digestOf(i), day(1));
          r = withLocation(r, { registry, repository: i % 2 === 0 ? "team/api" : "team/web", tag: `v${i}`, pushedAt: day(i) });
          if (i % 3 === 0) r = withLocation(r, { registry: "ghcr.io", repository: "org/mirror", pulledAt: day(20 + i) });
          r.scan = { ...r.scan, state: i <= 4 ? "queued" : i <= 9 ? "done" : "failed" };
          if (i > 4 && i <= 9) {
            r.verdict = {
              overall: i % 2 === 0 ? "deny" : "allow",
              locations: [],
              policyVersion: "p1",
              match: { dbVersion: "db1", matchedAt: day(i).toISOString() },
              computedAt: day(i).toISOString()
            };
            r.lastScannedAt = day(i).toISOString();
          }
          if ((i > 4 && i <= 9) || i === 12) r.result = scanResult(i, i % 2 === 0 ? NO_DB_VERSION : "db1");
          if (i === 12) r = { ...r, deleted: true, deletedAt: day(30).toISOString() };
          await store.images.upsert(r);
          records.push(r);
        }
        return records;
      }
      async function allPages(
        f: (continuation: string | undefined) => Promise<Page<ImageRecord>>
      ): Promise<{ ids: string[]; pages: number }> {
        const got: string[] = [];
        let continuation: string | undefined;
        let pages = 0;
        do {
          const page = await f(continuation);
          pages++;
          got.push(...page.items.map((r) => r.id));
          continuation = page.continuation;
        } while (continuation !== undefined && pages < 100);
        return { ids: got, pages };
      }
      const page = (continuation: string | undefined) => ({ limit: 2, ...(continuation === undefined ? {} : { continuation }) });
      const digests = (...ns: number[]) => ns.map(digestOf);

      it("round-trips a record through the validated container", async () => {
        const [first] = await seedImages();
        expect((await store.images.get(digestOf(1)))?.doc).toEqual(first);
      });

      it("by location, across pages, without deleted records unless asked", async () => {
        await seedImages();
        expect(await allPages((c) => listImagesByLocation(store.images, { registry, repository: "team/api" }, page(c)))).toEqual({
          ids: digests(2, 4, 6, 8, 10),
          pages: 3
        });
        expect(
          (await allPages((c) => listImagesByLocation(store.images, { registry: "ghcr.io", repository: "org/mirror" }, page(c)))).ids
        ).toEqual(digests(3, 6, 9));
        expect(
          (
            await allPages((c) =>
              listImages(store.images, { location: { registry, repository: "team/api" }, includeDeleted: true }, page(c))
            )
          ).ids
        ).toEqual(digests(2, 4, 6, 8, 10, 12));
      });

      it("by scan state and by verdict", async () => {
        await seedImages();
        expect((await allPages((c) => listImagesByScanState(store.images, "queued", page(c)))).ids).toEqual(digests(1, 2, 3, 4));
        expect((await allPages((c) => listImagesByScanState(store.images, "failed", page(c)))).ids).toEqual(digests(10, 11));
        expect((await allPages((c) => listImagesByVerdict(store.images, "deny", page(c)))).ids).toEqual(digests(6, 8));
        expect((await allPages((c) => listImagesByVerdict(store.images, "warn", page(c)))).ids).toEqual([]);
      });

      it("by the DB version last matched against: never matched, or one version; records without a result never", async () => {
        await seedImages();
        expect(await allPages((c) => listImages(store.images, { dbVersion: NO_DB_VERSION }, page(c)))).toEqual({
          ids: digests(6, 8),
          pages: 1
        });
        expect((await allPages((c) => listImages(store.images, { dbVersion: "db1" }, page(c)))).ids).toEqual(digests(5, 7, 9));
        expect((await allPages((c) => listImages(store.images, { dbVersion: NO_DB_VERSION, includeDeleted: true }, page(c)))).ids).toEqual(
          digests(6, 8, 12)
        );
        expect(
          (await allPages((c) => listImages(store.images, { dbVersion: "db1", location: { registry: "ghcr.io", repository: "org/mirror" } }, page(c)))).ids
        ).toEqual(digests(9));
        expect((await allPages((c) => listImages(store.images, { dbVersion: "db2" }, page(c)))).ids).toEqual([]);
      });

      it("by recency: newest first, optionally since a time", async () => {
        await seedImages();
        expect(await allPages((c) => listRecentImages(store.images, { by: "lastPushedAt" }, page(c)))).toEqual({
          ids: digests(11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1),
          pages: 6
        });
        expect((await allPages((c) => listRecentImages(store.images, { by: "lastPulledAt" }, page(c)))).ids).toEqual(
          digests(9, 6, 3)
        );
        expect(
          (await allPages((c) => listRecentImages(store.images, { by: "lastScannedAt", since: day(7) }, page(c)))).ids
        ).toEqual(digests(9, 8, 7));
      });

      it("any AND of location, state, verdict and recency, oldest first", async () => {
        await seedImages();
        const got = await allPages((c) =>
          listImages(
            store.images,
            { location: { registry, repository: "team/web" }, scanState: "done", recency: { by: "lastPushedAt", before: day(9) } },
            { ...page(c), orderBy: { by: "lastPushedAt", direction: "asc" } }
          )
        );
        expect(got.ids).toEqual(digests(5, 7));
      });

      it("a document that fails validation is refused on read, naming the digest", async () => {
        await seedImages();
        const bad = { ...newImageRecord(digestOf(99), day(1)), scan: { state: "lost" } };
        await store.documents("images").upsert(bad);
        let message = "";
        try {
          await store.images.get(digestOf(99));
        } catch (e) {
          message = e instanceof ScanhookError ? `${e.code} ${e.message}` : String(e);
        }
        expect(message.startsWith(`STORE.INVALID_DOCUMENT image record ${digestOf(99)} is invalid at scan.`)).toEqual(true);
        expect(await errorCode(() => listImagesByLocation(store.images, { registry, repository: "team/api" }, { limit: 50 }))).toEqual(
          "no error"
        );
        expect(await errorCode(() => listImages(store.images, {}, { limit: 50 }))).toEqual("STORE.INVALID_DOCUMENT");
      });

      it("an invalid record is refused on write and nothing is stored", async () => {
        const r = newImageRecord(digestOf(50), day(1));
        const invalid = { ...r, locationKeys: ["somewhere/else"] };
        expect(await errorCode(() => store.images.upsert(invalid))).toEqual("STORE.INVALID_DOCUMENT");
        expect(await store.documents("images").get(digestOf(50))).toEqual(undefined);
      });

      it("update on images validates what mutate returns", async () => {
        const r = newImageRecord(digestOf(51), day(1));
        await store.images.create(r);
        const updated = await store.images.update(digestOf(51), (cur) =>
          cur === undefined ? undefined : withLocation(cur, { registry, repository: "x", tag: "1" })
        );
        expect(updated?.doc.locationKeys).toEqual([`${registry}/x`]);
        expect(
          await errorCode(() =>
            store.images.update(digestOf(51), (cur) => (cur === undefined ? undefined : { ...cur, locationKeys: [] }))
          )
        ).toEqual("STORE.INVALID_DOCUMENT");
      });
    });
  });
}
