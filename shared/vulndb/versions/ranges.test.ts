import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CompiledEntries, expandRanges, flattenRange, isAffected, storeRanges, type OsvAffectedVersions, type OsvRange } from "./ranges.js";

const range = (type: "ECOSYSTEM" | "SEMVER", ...events: Record<string, string>[]): OsvAffectedVersions => ({ ranges: [{ type, events }] });

describe("isAffected (OSV evaluation)", () => {
  it("treats introduced 0 as before every version and fixed as exclusive", () => {
    const a = range("ECOSYSTEM", { introduced: "0" }, { fixed: "1.2.3-1" });
    expect(isAffected("1.2.2-5", a, "Debian:12")).toEqual({ affected: true, fixed: "1.2.3-1", warnings: [] });
    expect(isAffected("1.2.3-1", a, "Debian:12").affected).toBe(false);
    expect(isAffected("1.2.3~rc1-1", a, "Debian:12").affected).toBe(true);
  });

  it("includes last_affected itself and nothing after it", () => {
    const a = range("ECOSYSTEM", { introduced: "1.0" }, { last_affected: "2.1.214" });
    expect(isAffected("2.1.214", a, "Maven").affected).toBe(true);
    expect(isAffected("2.1.215", a, "Maven").affected).toBe(false);
    expect(isAffected("0.9", a, "Maven").affected).toBe(false);
    expect(isAffected("2.1.214", a, "Maven").fixed).toBeUndefined();
  });

  it("handles several intervals in one range, in any order of events", () => {
    const a = range("SEMVER", { fixed: "3.2.5" }, { introduced: "3.0.0" }, { introduced: "1.0.0" }, { fixed: "1.0.2" });
    expect(isAffected("1.0.1", a, "npm")).toEqual({ affected: true, fixed: "1.0.2", warnings: [] });
    expect(isAffected("2.0.0", a, "npm").affected).toBe(false);
    expect(isAffected("3.1.0", a, "npm").fixed).toBe("3.2.5");
    expect(isAffected("3.2.5", a, "npm").affected).toBe(false);
  });

  it("honours limit events, with * as infinity", () => {
    const a = range("ECOSYSTEM", { introduced: "0" }, { limit: "2.0" });
    expect(isAffected("1.9", a, "PyPI").affected).toBe(true);
    expect(isAffected("2.0", a, "PyPI").affected).toBe(false);
    expect(isAffected("9", range("ECOSYSTEM", { introduced: "0" }, { limit: "*" }), "PyPI").affected).toBe(true);
  });

  it("matches the versions list, also by the ecosystem's equality", () => {
    const a: OsvAffectedVersions = { versions: ["1.0", "1.1"] };
    expect(isAffected("1.0", a, "PyPI").affected).toBe(true);
    expect(isAffected("1.0.0", a, "PyPI").affected).toBe(true);
    expect(isAffected("1.2", a, "PyPI").affected).toBe(false);
  });

  it("uses SemVer 2.0 for SEMVER ranges and Go's rules (with the v) in the Go ecosystem", () => {
    const a = range("SEMVER", { introduced: "0" }, { fixed: "1.20.1" });
    expect(isAffected("v1.20.0", a, "Go").affected).toBe(true);
    expect(isAffected("v1.20.1", a, "Go").affected).toBe(false);
    expect(isAffected("1.0.0-rc.1", range("SEMVER", { introduced: "1.0.0-alpha" }), "crates.io").affected).toBe(true);
  });

  it("turns an unparseable installed version into not matched plus a warning", () => {
    const r = isAffected("not-a-version", range("ECOSYSTEM", { introduced: "0" }), "PyPI");
    expect(r.affected).toBe(false);
    expect(r.warnings.map((w) => [w.code, w.ecosystem, w.input])).toEqual([["VERSION.INVALID", "PyPI", "not-a-version"]]);
  });

  it("turns an unparseable event into not matched for that range plus a warning", () => {
    const a: OsvAffectedVersions = {
      ranges: [
        { type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.0-" }] },
        { type: "ECOSYSTEM", events: [{ introduced: "2.0" }, { fixed: "2.5" }] }
      ]
    };
    const r = isAffected("0.5", a, "Debian:11");
    expect(r.affected).toBe(false);
    expect(r.warnings.map((w) => w.input)).toEqual(["1.0-"]);
    expect(isAffected("2.1", a, "Debian:11").affected).toBe(true);
  });

  it("warns about an ecosystem without a comparator and ignores GIT ranges", () => {
    const r = isAffected("1.0", range("ECOSYSTEM", { introduced: "0" }), "Hackage");
    expect([r.affected, r.warnings[0]?.code]).toEqual([false, "VERSION.UNSUPPORTED_ECOSYSTEM"]);
    const git: OsvAffectedVersions = { ranges: [{ type: "GIT", repo: "https://example.invalid/r", events: [{ introduced: "0" }] }] };
    expect(isAffected("1.0", git, "npm")).toEqual({ affected: false, fixed: undefined, warnings: [] });
  });

  it("affects nothing with no ranges and no versions", () => {
    expect(isAffected("1.0", {}, "npm").affected).toBe(false);
  });

  it("answers a one-interval range by its shortcut exactly as by the general walk", () => {
    // A `limit: "*"` (above every version) changes nothing but sends the range down the general
    // walk, so the two spellings must agree on every version, fix included.
    const v = fc.tuple(fc.nat(4), fc.nat(4), fc.constantFrom("", "~rc1", "+b1")).map(([a, b, s]) => `${a}.${b}${s}-1`);
    const end = fc.oneof(fc.constant(undefined), fc.record({ kind: fc.constantFrom("fixed", "last_affected"), at: v }));
    fc.assert(
      fc.property(fc.oneof(fc.constant("0"), v), end, v, (from, to, installed) => {
        const events: Record<string, string>[] = [{ introduced: from }, ...(to === undefined ? [] : [{ [to.kind]: to.at }])];
        const short = isAffected(installed, range("ECOSYSTEM", ...events), "Debian:12");
        const general = isAffected(installed, range("ECOSYSTEM", ...events, { limit: "*" }), "Debian:12");
        expect(short).toEqual(general);
      }),
      { numRuns: 2000, seed: 7 }
    );
  });

  it("a package's compiled entries answer as isAffected does, whatever the events", () => {
    const v = fc.oneof(fc.constant("0"), fc.tuple(fc.nat(3), fc.nat(3), fc.constantFrom("", "~rc1")).map(([a, b, s]) => `${a}.${b}${s}-1`), fc.constant("not a version!"));
    const event = fc.tuple(fc.constantFrom("introduced", "fixed", "last_affected", "limit"), v).map(([k, at]) => ({ [k]: at }));
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 4 }), fc.tuple(fc.nat(3), fc.nat(3)).map(([a, b]) => `${a}.${b}-1`), (events, installed) => {
        const range: OsvRange = { type: "ECOSYSTEM", events };
        // As flat ranges, and as the DB stores them (a string when the range is `introduced: 0, fixed: x`).
        const entries = new CompiledEntries([[flattenRange(range)], storeRanges([range])], [undefined, undefined], "Debian:12");
        const expected = isAffected(installed, { ranges: [range] }, "Debian:12");
        for (const i of [0, 1]) {
          const got = entries.evaluate(installed, i);
          expect({ affected: got.affected, fixed: got.fixed, warned: got.warnings.length > 0 }).toEqual({ affected: expected.affected, fixed: expected.fixed, warned: expected.warnings.length > 0 });
        }
      }),
      { numRuns: 3000, seed: 11 }
    );
  });
});

describe("storeRanges", () => {
  it("keeps an entry's ranges as flattenRange does, a string for one ECOSYSTEM range fixed from 0", () => {
    const fixedFromZero: OsvRange = { type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.2-3" }] };
    expect(storeRanges([fixedFromZero])).toBe("1.2-3");
    expect(storeRanges(undefined)).toBe(0);
    expect(storeRanges([])).toBe(0);
    const event = fc.tuple(fc.constantFrom("introduced", "fixed", "last_affected", "limit"), fc.constantFrom("0", "1.0-1", "2.0-1")).map(([k, at]) => ({ [k]: at }));
    const anyRange = fc.record({ type: fc.constantFrom("ECOSYSTEM" as const, "SEMVER" as const, "GIT" as const), events: fc.array(event, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(anyRange, { maxLength: 3 }), (ranges) => {
        expect(expandRanges(storeRanges(ranges)) ?? []).toEqual(ranges.map(flattenRange));
      }),
      { numRuns: 1000, seed: 5 }
    );
  });
});
