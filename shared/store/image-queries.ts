/**
 * The questions asked of the `images` container, as typed functions over the generic filter:
 * by location, by scan state, by verdict, by the DB version last matched against, by recency, or
 * any AND of those. Deleted records are left out unless asked for. Every field named here has an
 * index on SQLite (SQLITE_INDEXES) and in the Cosmos DB images indexing policy
 * (infra/modules/cosmos.bicep; test/infra checks the two agree).
 */
import type { ImageRecord, ScanState, Verdict } from "../domain/image-record.js";
import { locationKey } from "../domain/image-record.js";
import { contains, eq, gte, lt, type Condition, type Filter } from "./filter.js";
import type { Container, Page, QueryOptions } from "./port.js";

/** The record times a list can be filtered and ordered by. */
export type RecencyField = "lastPulledAt" | "lastPushedAt" | "lastScannedAt" | "firstSeenAt";

export interface ImageListFilter {
  /** Records with this `registry/repository` among their locations. */
  location?: { registry: string; repository: string };
  scanState?: ScanState;
  /** The cached overall verdict (a record without a cached verdict never matches). */
  verdict?: Verdict;
  /** The DB version the result was last matched against, `none` for never matched (a record without a result never matches). */
  dbVersion?: string;
  /** Records whose `by` time is at or after `since` and before `before`. */
  recency?: { by: RecencyField; since?: Date; before?: Date };
  /** Defaults to false. */
  includeDeleted?: boolean;
}

export interface ImageListOptions extends QueryOptions {
  /**
   * Newest (`desc`, the default) or oldest first by a time; records without that time are left out.
   * Absent: by digest. Use the same order for every page of one listing.
   */
  orderBy?: { by: RecencyField; direction?: "asc" | "desc" };
}

// Field paths of ImageRecord the queries use, written once.
export const IMAGE_FIELDS = {
  locationKeys: "locationKeys",
  scanState: "scan.state",
  verdict: "verdict.overall",
  dbVersion: "result.dbVersion",
  deleted: "deleted"
} as const;

export function imageFilter(f: ImageListFilter, orderBy?: ImageListOptions["orderBy"]): Filter {
  const where: Condition[] = [];
  if (f.location !== undefined) {
    where.push(contains(IMAGE_FIELDS.locationKeys, locationKey(f.location.registry, f.location.repository)));
  }
  if (f.scanState !== undefined) where.push(eq(IMAGE_FIELDS.scanState, f.scanState));
  if (f.verdict !== undefined) where.push(eq(IMAGE_FIELDS.verdict, f.verdict));
  if (f.dbVersion !== undefined) where.push(eq(IMAGE_FIELDS.dbVersion, f.dbVersion));
  if (f.recency?.since !== undefined) where.push(gte(f.recency.by, f.recency.since.toISOString()));
  if (f.recency?.before !== undefined) where.push(lt(f.recency.by, f.recency.before.toISOString()));
  if (f.includeDeleted !== true) where.push(eq(IMAGE_FIELDS.deleted, false));
  return orderBy === undefined
    ? { where }
    : { where, orderBy: { field: orderBy.by, direction: orderBy.direction ?? "desc" } };
}

/** One page of the records matching every part of `filter`. */
export function listImages(
  images: Container<ImageRecord>,
  filter: ImageListFilter,
  options: ImageListOptions
): Promise<Page<ImageRecord>> {
  const { orderBy, ...page } = options;
  return images.query(imageFilter(filter, orderBy), page);
}

export function listImagesByLocation(
  images: Container<ImageRecord>,
  location: { registry: string; repository: string },
  options: ImageListOptions
): Promise<Page<ImageRecord>> {
  return listImages(images, { location }, options);
}

export function listImagesByScanState(
  images: Container<ImageRecord>,
  scanState: ScanState,
  options: ImageListOptions
): Promise<Page<ImageRecord>> {
  return listImages(images, { scanState }, options);
}

export function listImagesByVerdict(
  images: Container<ImageRecord>,
  verdict: Verdict,
  options: ImageListOptions
): Promise<Page<ImageRecord>> {
  return listImages(images, { verdict }, options);
}

/** Newest first by `by`, optionally only since a time: e.g. what was pulled in the last 30 days. */
export function listRecentImages(
  images: Container<ImageRecord>,
  recency: { by: RecencyField; since?: Date; before?: Date },
  options: QueryOptions
): Promise<Page<ImageRecord>> {
  return listImages(images, { recency }, { ...options, orderBy: { by: recency.by, direction: "desc" } });
}
