import { describe, expect, it } from "vitest";
import { parseChallenges } from "./www-authenticate.js";

describe("parseChallenges", () => {
  it("reads distribution's Bearer challenge", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" } }
    ]);
  });

  it("reads Basic, several challenges in one header, and several headers", () => {
    expect(parseChallenges('Basic realm="registry"')).toEqual([{ scheme: "basic", params: { realm: "registry" } }]);
    expect(parseChallenges(['Basic realm="a", Bearer realm="https://b/token",service=b', "Negotiate"])).toEqual([
      { scheme: "basic", params: { realm: "a" } },
      { scheme: "bearer", params: { realm: "https://b/token", service: "b" } },
      { scheme: "negotiate", params: {} }
    ]);
  });

  it("unescapes quoted strings, accepts tokens and odd spacing, lowercases names", () => {
    expect(parseChallenges('BEARER  Realm = "a\\"b" ,  Scope=x:y:pull')).toEqual([{ scheme: "bearer", params: { realm: 'a"b', scope: "x:y:pull" } }]);
  });

  it("keeps what parsed when the rest is malformed, and nothing from nothing", () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges("")).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: "bearer", params: { realm: "unterminated" } }]);
    expect(parseChallenges("=oops")).toEqual([]);
  });
});
