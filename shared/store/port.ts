/**
 * The store port: a narrow document store, one interface for Cosmos DB (Azure) and SQLite
 * (`npm start`). Documents are JSON objects with a string `id`; in Cosmos DB the `id` is also the
 * partition key, so every point operation is a single-partition one.
 *
 * Concurrency is optimistic: each write returns an ETag, and `replace`/`delete` with an ETag fail
 * with `ConflictError` when the document changed meanwhile. A stale write is never a silent
 * overwrite; `update` is the read-modify-write loop that retries such conflicts.
 */
import type { Filter } from "./filter.js";

export type { Filter, Condition, OrderBy, Scalar } from "./filter.js";

/** Any stored document. Names starting with `_` are reserved (Cosmos system properties). */
export interface JsonDocument {
  id: string;
  [key: string]: unknown;
}

export interface Versioned<T> {
  doc: T;
  etag: string;
}

export interface QueryOptions {
  /** Page size, 1–1000. A page may hold fewer items even when more follow (Cosmos DB does that). */
  limit: number;
  /** From the previous page of the same query; opaque. */
  continuation?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow (the next page can still be empty). */
  continuation?: string;
}

export interface UpdateOptions {
  /** Read-modify-write attempts before giving up with `ConflictError`. Defaults to 5. */
  maxAttempts?: number;
}

/**
 * What `update`'s mutate function returns: the new document, or `undefined` to write nothing
 * (the current version is returned unchanged).
 */
export type Mutate<T> = (current: T | undefined) => T | undefined | Promise<T | undefined>;

/** One container of documents, named by its role (`images`, `changes`, `state`). */
export interface Container<T extends { id: string }> {
  readonly name: string;
  /** The document and its ETag, or undefined when absent. */
  get(id: string): Promise<Versioned<T> | undefined>;
  /** Writes unconditionally; returns the new ETag. */
  upsert(doc: T): Promise<string>;
  /** Writes only if absent; `ConflictError` if a document with this id exists. */
  create(doc: T): Promise<string>;
  /** Writes only if the stored ETag is `etag`; `ConflictError` if it changed or the document is gone. */
  replace(doc: T, etag: string): Promise<string>;
  /** Succeeds when absent. With `etag`: `ConflictError` if the stored document has another ETag. */
  delete(id: string, etag?: string): Promise<void>;
  /**
   * One page of the documents matching `filter`. Documents lacking the ORDER BY field (or holding
   * null there) are not returned, on both engines alike.
   */
  query(filter: Filter, options: QueryOptions): Promise<Page<T>>;
  /**
   * Read, mutate, write back conditionally; on a conflict read again and mutate again, at most
   * `maxAttempts` times. `mutate` receives a private copy and may be called more than once.
   * Returns the stored version, or undefined when the document is absent and stays absent.
   */
  update(id: string, mutate: Mutate<T>, options?: UpdateOptions): Promise<Versioned<T> | undefined>;
}

export type PingResult = { ok: true; latencyMs: number } | { ok: false; latencyMs: number; error: string };

export const CONTAINER_NAMES = ["images", "changes", "state"] as const;
export type ContainerName = (typeof CONTAINER_NAMES)[number];

/** The store as the rest of scanhook sees it. */
export interface Store<Images extends { id: string } = JsonDocument> {
  readonly kind: "sqlite" | "cosmos";
  /** One document per digest, validated on read and on write. */
  readonly images: Container<Images>;
  /** Change records (later issues give them a schema). */
  readonly changes: Container<JsonDocument>;
  /** Cursors and dedupe marks. */
  readonly state: Container<JsonDocument>;
  /** The raw, unvalidated view of a container: for migrations and repair tools. */
  documents(name: ContainerName): Container<JsonDocument>;
  /** Whether the store answers now; never throws. */
  ping(): Promise<PingResult>;
  close(): Promise<void>;
}
