/**
 * The in-memory verdict cache of one instance: answers keyed by (digest, reference, platform,
 * policy version), each kept for a short TTL, never past its own `validUntil`, and dropped as soon
 * as this instance writes any record the answer was computed from (an index's answer depends on
 * its platforms' records too). Other instances' writes are seen when the TTL runs out.
 */
import type { Container, Mutate, UpdateOptions, Versioned } from "../store/port.js";

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  readonly digests: readonly string[];
}

export interface VerdictCacheOptions {
  readonly ttlMs: number;
  /** Most entries kept; the oldest go first. */
  readonly maxEntries: number;
  readonly now?: () => number;
}

export class VerdictCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** digest → keys of the entries computed from its record. */
  private readonly byDigest = new Map<string, Set<string>>();

  constructor(private readonly options: VerdictCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(key, entry);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` until the TTL or `validUntilMs`, whichever is first; `digests` are the records it read. */
  set(key: string, value: V, digests: readonly string[], validUntilMs?: number): void {
    if (this.options.ttlMs <= 0 || this.options.maxEntries <= 0) return;
    const expiresAt = Math.min(this.now() + this.options.ttlMs, validUntilMs ?? Number.POSITIVE_INFINITY);
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(key, old);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.entries().next().value;
      if (oldest === undefined) break;
      this.remove(oldest[0], oldest[1]);
    }
    this.entries.set(key, { value, expiresAt, digests });
    for (const d of digests) {
      let keys = this.byDigest.get(d);
      if (keys === undefined) {
        keys = new Set();
        this.byDigest.set(d, keys);
      }
      keys.add(key);
    }
  }

  /** Drops every answer computed from this digest's record. */
  invalidate(digest: string): void {
    const keys = this.byDigest.get(digest);
    if (keys === undefined) return;
    for (const key of [...keys]) {
      const entry = this.entries.get(key);
      if (entry !== undefined) this.remove(key, entry);
    }
    this.byDigest.delete(digest);
  }

  clear(): void {
    this.entries.clear();
    this.byDigest.clear();
  }

  private remove(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    for (const d of entry.digests) {
      const keys = this.byDigest.get(d);
      keys?.delete(key);
      if (keys?.size === 0) this.byDigest.delete(d);
    }
  }
}

/**
 * The container with `onWrite(id)` called after every write through it (and before a failed
 * conditional write is reported), so whatever this instance writes is never served stale.
 */
export function observeWrites<T extends { id: string }>(inner: Container<T>, onWrite: (id: string) => void): Container<T> {
  const after = async <R>(id: string, work: Promise<R>): Promise<R> => {
    try {
      return await work;
    } finally {
      onWrite(id);
    }
  };
  return {
    name: inner.name,
    get: (id) => inner.get(id),
    upsert: (doc) => after(doc.id, inner.upsert(doc)),
    create: (doc) => after(doc.id, inner.create(doc)),
    replace: (doc, etag) => after(doc.id, inner.replace(doc, etag)),
    delete: (id, etag) => after(id, inner.delete(id, etag)),
    query: (filter, options) => inner.query(filter, options),
    update: (id: string, mutate: Mutate<T>, options?: UpdateOptions): Promise<Versioned<T> | undefined> => after(id, inner.update(id, mutate, options))
  };
}
