import { describe, expect, it } from "vitest";
import { bucketKeyOfRoute, compileRoute, matchRoute } from "./http-server.js";

describe("routes", () => {
  it.each([
    ["api/health", "/api/health", {}],
    ["api/health", "/API/Health/", {}],
    ["api/images/{digest}", "/api/images/sha256%3Aabc", { digest: "sha256:abc" }],
    ["api/admission/{secret}", "/api/admission/s3cr3t", { secret: "s3cr3t" }],
    ["api/items/{id?}", "/api/items", {}],
    ["{*path}", "/index.html", { path: "index.html" }],
    ["api/blobs/{*path}", "/api/blobs/a/b/c", { path: "a/b/c" }],
    // A malformed escape stays as sent, for the handler's own check to refuse with a 400.
    ["api/images/{digest}", "/api/images/sha256%E0%A4", { digest: "sha256%E0%A4" }]
  ])("%s matches %s", (route, path, params) => {
    expect(matchRoute(compileRoute(route), path)).toEqual(params);
  });

  it.each([
    ["api/health", "/api/healthz"],
    ["api/images/{digest}", "/api/images"],
    ["api/images/{digest}", "/api/images/a/b"]
  ])("%s does not match %s", (route, path) => {
    expect(matchRoute(compileRoute(route), path)).toBeUndefined();
  });
});

describe("route buckets", () => {
  it.each([
    ["api/verdicts/{digest}", "api/verdicts"],
    ["api/health", "api/health"],
    ["API/Images", "api/images"],
    ["{*path}", undefined],
    ["api/{name}", undefined],
    ["index.html", undefined]
  ])("%s → %s", (route, key) => {
    expect(bucketKeyOfRoute(route)).toBe(key);
  });
});
