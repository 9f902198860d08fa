import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ScanhookError } from "../domain/errors.js";
import { openStore } from "../store/open-store.js";
import type { Page, QueryOptions, Store } from "../store/port.js";
import type { ImageRecord } from "../domain/image-record.js";
import { PASS_PAGE_SIZE, readPassCursor, runPagedPass, type PagedPass } from "./paged-pass.js";

const CursorSchema = z.object({ id: z.literal("test-pass"), pass: z.int(), seen: z.int(), continuation: z.string().optional() });
type Cursor = z.infer<typeof CursorSchema>;

/** A listing of `items` whose continuation is the next position, as a store's would be: opaque and per query. */
function listing(items: readonly string[], opts: { refuse?: (token: string) => boolean; emptyPagesFirst?: number } = {}) {
  const asked: QueryOptions[] = [];
  let empty = opts.emptyPagesFirst ?? 0;
  const list = async (page: QueryOptions): Promise<Page<string>> => {
    asked.push(page);
    if (page.continuation !== undefined && opts.refuse?.(page.continuation) === true) {
      throw new ScanhookError("STORE.INVALID_CONTINUATION", "continuation token is invalid or belongs to another query");
    }
    const from = page.continuation === undefined ? 0 : Number(page.continuation);
    // A page may hold nothing while more follows (Cosmos DB does that).
    if (empty > 0) {
      empty--;
      return { items: [], continuation: String(from) };
    }
    const to = Math.min(items.length, from + page.limit);
    return { items: items.slice(from, to), ...(to < items.length ? { continuation: String(to) } : {}) };
  };
  return { list, asked };
}

const ITEMS = Array.from({ length: 450 }, (_, i) => `item-${String(i).padStart(3, "0")}`);

describe("runPagedPass", () => {
  let store: Store<ImageRecord>;
  beforeEach(async () => {
    store = await openStore({ kind: "sqlite", path: ":memory:" });
  });
  afterEach(async () => {
    await store.close();
  });

  const saved = () => readPassCursor(store.state, "test-pass", CursorSchema);

  /** One run the way a timer does it: from the saved cursor, or a new pass's. */
  function run(list: PagedPass<string, Cursor>["list"], over: Partial<PagedPass<string, Cursor>> & { visited?: string[]; finished?: Cursor[] } = {}) {
    return async () =>
      runPagedPass<string, Cursor>({
        name: "test pass",
        state: store.state,
        cursor: (await saved()) ?? { id: "test-pass", pass: 1, seen: 0 },
        list,
        maxRecords: 250,
        visit: async (item, cursor) => {
          over.visited?.push(item);
          cursor.seen++;
        },
        restart: (cursor) => ({ ...cursor, pass: cursor.pass + 1, seen: 0 }),
        finish: (cursor) => {
          over.finished?.push(cursor);
          return { id: "test-pass", pass: cursor.pass + 1, seen: 0 };
        },
        ...over
      });
  }

  it("walks the listing in runs of at most maxRecords, pages capped by the page size and the run's budget, the cursor saved after every page", async () => {
    const { list, asked } = listing(ITEMS);
    const visited: string[] = [];
    const finished: Cursor[] = [];
    const first = await run(list, { visited, finished })();
    expect(first).toEqual({ examined: 250, finished: false, cursor: { id: "test-pass", pass: 1, seen: 250, continuation: "250" } });
    expect(asked).toEqual([{ limit: PASS_PAGE_SIZE }, { limit: 50, continuation: "200" }]);
    expect(await saved()).toEqual(first.cursor);

    const second = await run(list, { visited, finished })();
    expect(second).toEqual({ examined: 200, finished: true, cursor: { id: "test-pass", pass: 2, seen: 0 } });
    expect(asked.slice(2)).toEqual([{ limit: PASS_PAGE_SIZE, continuation: "250" }]);
    // finish sees the pass's own fields, never the continuation, and decides what is saved.
    expect(finished).toEqual([{ id: "test-pass", pass: 1, seen: 450 }]);
    expect(await saved()).toEqual({ id: "test-pass", pass: 2, seen: 0 });
    expect(visited).toEqual(ITEMS);

    // The next run begins the next pass from the start.
    expect((await run(list)()).cursor).toMatchObject({ pass: 2, seen: 250, continuation: "250" });
  });

  it("a continuation the store refuses starts the pass again through restart, and says so", async () => {
    const refused = new Set<string>();
    const { list } = listing(ITEMS, { refuse: (t) => refused.has(t) });
    await run(list)();
    refused.add("250");
    const lines: string[] = [];
    const outcome = await run(list, { log: (m) => lines.push(m) })();
    expect(outcome).toEqual({ examined: 250, finished: false, cursor: { id: "test-pass", pass: 2, seen: 250, continuation: "250" } });
    expect(lines).toEqual(["test pass: cursor not honoured (STORE.INVALID_CONTINUATION: continuation token is invalid or belongs to another query); starting the pass again"]);
  });

  it("a listing that fails for another reason with a continuation fails the run and keeps the cursor for the next", async () => {
    const { list } = listing(ITEMS, {});
    const first = await run(list)();
    const down = async (): Promise<Page<string>> => {
      throw new ScanhookError("STORE.UNAVAILABLE", "down");
    };
    await expect(run(down)()).rejects.toThrow("down");
    expect(await saved()).toEqual(first.cursor);
    // Resumed where the first run stopped: the last 200 items, and the pass is done.
    expect(await run(list)()).toMatchObject({ examined: 200, finished: true });
  });

  it("a listing that fails without a continuation fails the run, saving nothing", async () => {
    const failing = async (): Promise<Page<string>> => {
      throw new ScanhookError("STORE.UNAVAILABLE", "down");
    };
    await expect(run(failing)()).rejects.toThrow("down");
    expect(await saved()).toBeUndefined();
  });

  it("an item that fails stops the run; the next run goes on from the last saved page, repeating at most that page", async () => {
    const { list } = listing(ITEMS);
    const visited: string[] = [];
    const boom = async (item: string, cursor: Cursor): Promise<void> => {
      if (item === "item-210") throw new Error("queue down");
      visited.push(item);
      cursor.seen++;
    };
    await expect(run(list, { visit: boom })()).rejects.toThrow("queue down");
    expect(await saved()).toEqual({ id: "test-pass", pass: 1, seen: 200, continuation: "200" });
    await run(list, { visited })();
    // 200–209 were handled before the failure and again after it; nothing was skipped.
    expect(visited.filter((v) => v === "item-205")).toEqual(["item-205", "item-205"]);
    expect(visited.length - new Set(visited).size).toBe(10);
    expect(new Set(visited).size).toBe(ITEMS.length);
  });

  it("follows empty pages that carry a continuation without counting them", async () => {
    const { list, asked } = listing(ITEMS.slice(0, 30), { emptyPagesFirst: 3 });
    const outcome = await run(list)();
    expect(outcome).toEqual({ examined: 30, finished: true, cursor: { id: "test-pass", pass: 2, seen: 0 } });
    expect(asked.map((a) => a.limit)).toEqual([PASS_PAGE_SIZE, PASS_PAGE_SIZE, PASS_PAGE_SIZE, PASS_PAGE_SIZE]);
  });

  it("readPassCursor: a saved document of another shape is no cursor", async () => {
    expect(await saved()).toBeUndefined();
    await store.state.upsert({ id: "test-pass", pass: "one" });
    expect(await saved()).toBeUndefined();
    await store.state.upsert({ id: "test-pass", pass: 3, seen: 1 });
    expect(await saved()).toEqual({ id: "test-pass", pass: 3, seen: 1 });
  });
});
