/**
 * A small map whose entries expire: tags resolved to digests (a tag moves, so seconds, not
 * minutes) and registry tokens (until the expiry their issuer gave, less a margin). Bounded:
 * past `maxEntries` the oldest entry goes first. The clock is injectable so tests never wait.
 */
export interface TtlCacheOptions {
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: TtlCacheOptions = {}) {
    this.#max = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` for `ttlInMs`; a TTL of zero or less stores nothing. */
  set(key: string, value: V, ttlInMs: number): void {
    this.#entries.delete(key);
    if (ttlInMs <= 0) return;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlInMs });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
