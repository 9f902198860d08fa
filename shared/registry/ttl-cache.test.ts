import { describe, expect, it } from "vitest";
import { jwtExpiry } from "./tokens.js";
import { TtlCache } from "./ttl-cache.js";

describe("TtlCache", () => {
  it("forgets an entry when its time is up, never before", () => {
    let now = 1000;
    const cache = new TtlCache<string>({ now: () => now });
    cache.set("a", "x", 500);
    now = 1499;
    expect(cache.get("a")).toBe("x");
    now = 1500;
    expect(cache.get("a")).toBeUndefined();
    cache.set("b", "y", 0);
    expect(cache.get("b")).toBeUndefined();
  });

  it("stays within its bound, dropping the oldest first", () => {
    const cache = new TtlCache<number>({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i, 60_000);
    expect(cache.size).toBe(3);
    expect([cache.get("k0"), cache.get("k1"), cache.get("k2"), cache.get("k4")]).toEqual([undefined, undefined, 2, 4]);
  });
});

describe("jwtExpiry", () => {
  it("reads exp without verifying, undefined for anything else", () => {
    const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
    expect(jwtExpiry(`${enc({ alg: "none" })}.${enc({ exp: 1700000000 })}.sig`)).toBe(1700000000_000);
    expect(jwtExpiry("opaque-token")).toBeUndefined();
    expect(jwtExpiry(`${enc({})}.not-json.sig`)).toBeUndefined();
    expect(jwtExpiry(`${enc({})}.${enc({ exp: "soon" })}.sig`)).toBeUndefined();
  });
});
