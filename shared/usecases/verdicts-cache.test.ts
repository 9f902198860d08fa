import { describe, expect, it } from "vitest";
import { VerdictCache } from "./verdicts-cache.js";

describe("VerdictCache", () => {
  it("keeps an answer for the TTL, never past its validUntil", () => {
    let now = 0;
    const cache = new VerdictCache<string>({ ttlMs: 1000, maxEntries: 10, now: () => now });
    cache.set("a", "A", ["d1"]);
    cache.set("b", "B", ["d2"], 500);
    now = 499;
    expect([cache.get("a"), cache.get("b")]).toEqual(["A", "B"]);
    now = 500;
    expect([cache.get("a"), cache.get("b")]).toEqual(["A", undefined]);
    now = 1000;
    expect(cache.get("a")).toBeUndefined();
  });

  it("a write to any record an answer read drops it (an index's answer depends on its platforms)", () => {
    const cache = new VerdictCache<string>({ ttlMs: 1000, maxEntries: 10, now: () => 0 });
    cache.set("index", "I", ["idx", "amd64", "arm64"]);
    cache.set("index|platform", "P", ["idx", "arm64"]);
    cache.set("other", "O", ["other"]);
    cache.invalidate("amd64");
    expect([cache.get("index"), cache.get("index|platform"), cache.get("other")]).toEqual([undefined, "P", "O"]);
    cache.invalidate("arm64");
    expect(cache.get("index|platform")).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it("holds at most maxEntries, dropping the oldest; a TTL of 0 keeps nothing", () => {
    const cache = new VerdictCache<number>({ ttlMs: 1000, maxEntries: 2, now: () => 0 });
    cache.set("1", 1, ["a"]);
    cache.set("2", 2, ["b"]);
    cache.set("3", 3, ["c"]);
    expect([cache.get("1"), cache.get("2"), cache.get("3")]).toEqual([undefined, 2, 3]);
    const off = new VerdictCache<number>({ ttlMs: 0, maxEntries: 2 });
    off.set("1", 1, ["a"]);
    expect(off.get("1")).toBeUndefined();
  });
});
