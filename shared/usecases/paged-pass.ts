/**
 * A resumable pass over a paged store listing, shared by the timers that walk many records in
 * bounded runs (the verdict sweep, the never-matched rematch pass). Each run handles at most
 * `maxRecords` items from the continuation kept in the pass's cursor document in the `state`
 * container, saves the cursor after every page (so a run cut short by its timeout repeats at most
 * one page), and when the listing ends lets the caller decide what a finished pass leaves behind.
 * A continuation the store no longer honours starts the pass again rather than stalling it.
 */
import type { z } from "zod";
import { describeError, isScanhookError } from "../domain/errors.js";
import type { Container, JsonDocument, Page, QueryOptions } from "../store/port.js";

/** Items asked for per page; fewer when the run's budget is nearly spent. */
export const PASS_PAGE_SIZE = 200;

/** A pass's cursor document: its own fields, and where the listing stopped while a pass is under way. */
export type PassCursor = JsonDocument & { continuation?: string };

/** The cursor saved under `id`, or undefined when there is none or it has another shape (a new pass then). */
export async function readPassCursor<C extends PassCursor>(state: Container<JsonDocument>, id: string, schema: z.ZodType<C>): Promise<C | undefined> {
  const parsed = schema.safeParse((await state.get(id))?.doc);
  return parsed.success ? parsed.data : undefined;
}

export function withoutContinuation<C extends PassCursor>(cursor: C): C {
  const { continuation: _dropped, ...rest } = cursor;
  return rest as C;
}

export interface PagedPass<T, C extends PassCursor> {
  /** Names the pass in log lines. */
  readonly name: string;
  /** Where the cursor is saved (under its own `id`). */
  readonly state: Container<JsonDocument>;
  /** The cursor to go on from: the saved one, or a new pass's. */
  readonly cursor: C;
  /** One page of the listing the pass walks: the same query on every run of a pass. */
  readonly list: (page: QueryOptions) => Promise<Page<T>>;
  /** Items handled per run at most. */
  readonly maxRecords: number;
  /** Handles one item; may update the cursor's own fields (counts), which are saved with the page. */
  readonly visit: (item: T, cursor: C) => Promise<void>;
  /** The cursor of a pass started again from the beginning; given the current one without its continuation. */
  readonly restart: (cursor: C) => C;
  /** The cursor to save once the listing has ended; given the current one without its continuation. */
  readonly finish: (cursor: C) => C | Promise<C>;
  readonly log?: (message: string) => void;
}

export interface PagedPassOutcome<C> {
  readonly examined: number;
  /** Whether the listing ended in this run (and `finish` ran). */
  readonly finished: boolean;
  /** The cursor as last saved (or as given, when no page was read). */
  readonly cursor: C;
}

/** Runs one bounded slice of the pass from `pass.cursor` on. */
export async function runPagedPass<T, C extends PassCursor>(pass: PagedPass<T, C>): Promise<PagedPassOutcome<C>> {
  let cursor = pass.cursor;
  let examined = 0;
  while (examined < pass.maxRecords) {
    let page: Page<T>;
    try {
      page = await pass.list({ limit: Math.min(PASS_PAGE_SIZE, pass.maxRecords - examined), ...(cursor.continuation === undefined ? {} : { continuation: cursor.continuation }) });
    } catch (e) {
      // Only a token the store no longer honours starts the pass again (rather than stall); any
      // other failure (the store briefly down) fails this run, and the next resumes from the cursor.
      if (cursor.continuation === undefined || !isScanhookError(e, "STORE.INVALID_CONTINUATION")) throw e;
      pass.log?.(`${pass.name}: cursor not honoured (${describeError(e)}); starting the pass again`);
      cursor = pass.restart(withoutContinuation(cursor));
      continue;
    }
    for (const item of page.items) {
      examined++;
      await pass.visit(item, cursor);
    }
    if (page.continuation === undefined) {
      cursor = await pass.finish(withoutContinuation(cursor));
      await pass.state.upsert(cursor);
      return { examined, finished: true, cursor };
    }
    cursor = { ...cursor, continuation: page.continuation };
    await pass.state.upsert(cursor);
  }
  return { examined, finished: false, cursor };
}
