import { describe, expect, it } from "vitest";
import { isOwnPull, registryEventDedupeKey, registryEventSchema, type RegistryEvent } from "./registry-event.js";

const DIGEST = "sha256:213bbc182920ab41e18edc2001e06abcca6735d87782d9cef68abd83941cf0e5";

function push(overrides: Record<string, unknown> = {}): unknown {
  return {
    action: "push",
    registry: "demo.azurecr.io",
    repository: "aci-helloworld",
    tag: "v1",
    digest: DIGEST,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    time: "2018-04-25T21:39:47.276Z",
    source: "eventgrid",
    eventId: "31c51664-e5bd-416a-a5df-e5206bc47ed0",
    userAgent: "docker/18.03.0-ce",
    actor: "deploy-bot",
    size: 3023,
    ...overrides
  };
}

function parse(value: unknown): RegistryEvent {
  return registryEventSchema.parse(value);
}

describe("registryEventSchema", () => {
  it("accepts a full event and a minimal delete by tag", () => {
    expect(registryEventSchema.safeParse(push()).success).toBe(true);
    const byTag = { action: "delete", registry: "127.0.0.1:5000", repository: "a/b", tag: "v1", time: "2026-11-23T02:10:15.772Z", source: "distribution", eventId: "e" };
    expect(registryEventSchema.safeParse(byTag).success).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a push without a digest", { digest: undefined }, "digest"],
    ["a pull without a digest", { action: "pull", digest: undefined }, "digest"],
    ["a delete with neither digest nor tag", { action: "delete", digest: undefined, tag: undefined }, "digest"],
    ["an uppercase host (normalised at the edge)", { registry: "Demo.azurecr.io" }, "registry"],
    ["a time with an offset (normalised at the edge)", { time: "2018-04-25T21:39:47.276+01:00" }, "time"],
    ["a time with nanoseconds (normalised at the edge)", { time: "2018-04-25T21:39:47.276585742Z" }, "time"],
    ["an unknown action", { action: "mount" }, "action"],
    ["an unknown source", { source: "harbor" }, "source"],
    ["a bad digest", { digest: "sha256:abc" }, "digest"],
    ["an empty actor", { actor: "" }, "actor"],
    ["a negative size", { size: -1 }, "size"]
  ])("rejects %s", (_name, overrides, field) => {
    const result = registryEventSchema.safeParse(push(overrides));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });
});

describe("registryEventDedupeKey", () => {
  it("is an image reference behind the action", () => {
    expect(registryEventDedupeKey(parse(push()))).toBe(`push|demo.azurecr.io/aci-helloworld:v1@${DIGEST}`);
    expect(registryEventDedupeKey(parse(push({ action: "delete", digest: undefined })))).toBe("delete|demo.azurecr.io/aci-helloworld:v1");
    expect(registryEventDedupeKey(parse(push({ tag: undefined })))).toBe(`push|demo.azurecr.io/aci-helloworld@${DIGEST}`);
  });

  it("ignores delivery details, so a redelivery or another source gives the same key", () => {
    const a = parse(push());
    const b = parse(push({ source: "acr", eventId: "other", time: "2018-04-25T21:40:00.000Z", userAgent: undefined, actor: undefined, size: undefined }));
    expect(registryEventDedupeKey(b)).toBe(registryEventDedupeKey(a));
  });

  it("tells apart what the change is about", () => {
    const base = registryEventDedupeKey(parse(push()));
    for (const overrides of [{ action: "pull" }, { tag: "v2" }, { repository: "other" }, { registry: "other.azurecr.io" }, { digest: `sha256:${"0".repeat(64)}` }]) {
      expect(registryEventDedupeKey(parse(push(overrides)))).not.toBe(base);
    }
  });
});

describe("isOwnPull", () => {
  it("recognises scanhook's user agent and its accounts, on pulls only", () => {
    expect(isOwnPull(parse(push({ action: "pull", userAgent: "scanhook/0.1.0 node/20.19.0" })))).toBe(true);
    expect(isOwnPull(parse(push({ action: "pull", userAgent: "proxy/1.0 ScanHook/0.1.0" })))).toBe(true);
    expect(isOwnPull(parse(push({ action: "pull", userAgent: "notscanhook/1.0" })))).toBe(false);
    expect(isOwnPull(parse(push({ action: "pull", userAgent: "curl/8.5.0", actor: "scanner" })), ["scanner"])).toBe(true);
    expect(isOwnPull(parse(push({ action: "pull", userAgent: "curl/8.5.0", actor: "someone" })), ["scanner"])).toBe(false);
    expect(isOwnPull(parse(push({ action: "pull", userAgent: undefined, actor: undefined })))).toBe(false);
    expect(isOwnPull(parse(push({ userAgent: "scanhook/0.1.0" })))).toBe(false);
  });
});
