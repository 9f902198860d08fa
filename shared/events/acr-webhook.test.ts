import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAcrWebhook } from "./acr-webhook.js";

function example(name: string): string {
  return readFileSync(new URL(`./examples/${name}`, import.meta.url), "utf8");
}

function exampleJson(name: string): Record<string, unknown> {
  return JSON.parse(example(name)) as Record<string, unknown>;
}

/** The push example with `change` applied to a deep copy: the malformed variants below. */
function pushWith(change: (body: { target: Record<string, unknown>; request: Record<string, unknown> } & Record<string, unknown>) => void): string {
  const body = exampleJson("acr-push.json") as { target: Record<string, unknown>; request: Record<string, unknown> } & Record<string, unknown>;
  change(body);
  return JSON.stringify(body);
}

describe("parseAcrWebhook: the examples", () => {
  it("push → one push event", () => {
    expect(parseAcrWebhook(example("acr-push.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "push",
          registry: "myregistry.azurecr.io",
          repository: "hello-world",
          tag: "v1",
          digest: "sha256:0f1cd5c8786bb9e621a45ece0dbe4f21cdc624ad20da9fe62e9d25490f33a2b7",
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          time: "2023-11-17T16:52:01.343Z",
          source: "acr",
          eventId: "cb8c3971-9adc-488b-a1f2-43cbb4974ff5",
          userAgent:
            "docker/17.09.0-ce go/go1.8.3 git-commit/afdb6d4 kernel/4.10.0-27-generic os/linux arch/amd64 UpstreamClient(Docker-Client/17.09.0-ce \\(linux\\))",
          size: 524
        }
      ],
      ignored: []
    });
  });

  it("push of an OCI index → one push event, host lowercased", () => {
    expect(parseAcrWebhook(example("acr-push-oci-index.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "push",
          registry: "myregistry.azurecr.io",
          repository: "team/web",
          tag: "2.4.1",
          digest: "sha256:7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627d",
          mediaType: "application/vnd.oci.image.index.v1+json",
          time: "2024-05-02T09:14:27.118Z",
          source: "acr",
          eventId: "5f1e2b7a-3c4d-4e8f-9a0b-1c2d3e4f5a6b",
          userAgent: "buildkit/v0.13",
          size: 856
        }
      ],
      ignored: []
    });
  });

  it("delete → one delete event with the digest and no tag or size", () => {
    expect(parseAcrWebhook(example("acr-delete.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "delete",
          registry: "myregistry.azurecr.io",
          repository: "hello-world",
          digest: "sha256:0f1cd5c8786bb9e621a45ece0dbe4f21cdc624ad20da9fe62e9d25490f33a2b7",
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          time: "2023-11-17T16:54:53.657Z",
          source: "acr",
          eventId: "afc359ce-df7f-4e32-9a1c-1ff8aa80927b",
          userAgent: "python-requests/2.18.4"
        }
      ],
      ignored: []
    });
  });

  it("quarantine → a push (an image waiting to be scanned)", () => {
    const result = parseAcrWebhook(example("acr-quarantine.json"));
    expect(result).toEqual({
      kind: "events",
      events: [
        {
          action: "push",
          registry: "myregistry.azurecr.io",
          repository: "payments/api",
          tag: "1.8.0",
          digest: "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4",
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          time: "2023-11-17T17:02:44.918Z",
          source: "acr",
          eventId: "0c2a8f0e-7e65-4b55-9d8e-5a2c7b1f3e90",
          userAgent:
            "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.5.0-1016-azure os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))",
          size: 1573
        }
      ],
      ignored: []
    });
  });

  it("ping → acknowledged, nothing to do", () => {
    expect(parseAcrWebhook(example("acr-ping.json"))).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: "ping: a health probe, nothing to do", eventId: "c07a9b33-1c2d-4c41-8a5e-2d6f3b4a5c6d" }]
    });
  });

  it.each([
    ["acr-chart-push.json", "chart_push", "6356e9e0-627f-4fed-a0b3-d9059b5143ac"],
    ["acr-chart-delete.json", "chart_delete", "338a3ef7-ad68-4128-8f2c-e1e4f4f6a9c1"]
  ])("%s → acknowledged and ignored (no request.host, not an image)", (file, action, eventId) => {
    expect(parseAcrWebhook(example(file))).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: `${action}: a Helm chart event, not about an image`, eventId }]
    });
  });
});

describe("parseAcrWebhook: ignore paths", () => {
  it("a ping with a push-shaped body, or with no id at all, is still a ping", () => {
    expect(parseAcrWebhook(pushWith((b) => (b.action = "ping")))).toMatchObject({ kind: "events", events: [], ignored: [{ reason: "ping: a health probe, nothing to do" }] });
    expect(parseAcrWebhook('{"action":"ping"}')).toEqual({ kind: "events", events: [], ignored: [{ reason: "ping: a health probe, nothing to do" }] });
  });

  it("an unknown action is acknowledged, so a new ACR action is not retried for ever", () => {
    expect(parseAcrWebhook(pushWith((b) => (b.action = "tag_delete")))).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: 'action "tag_delete" is not handled', eventId: "cb8c3971-9adc-488b-a1f2-43cbb4974ff5" }]
    });
  });

  it("a push of a blob or an unknown media type is ignored with the media type in the reason", () => {
    expect(parseAcrWebhook(pushWith((b) => (b.target.mediaType = "application/vnd.oci.image.layer.v1.tar+gzip")))).toMatchObject({
      events: [],
      ignored: [{ reason: 'blob event: target.mediaType "application/vnd.oci.image.layer.v1.tar+gzip" is not a manifest' }]
    });
    expect(parseAcrWebhook(pushWith((b) => (b.target.mediaType = "application/vnd.docker.distribution.manifest.v1+prettyjws")))).toMatchObject({
      events: [],
      ignored: [{ reason: 'target.mediaType "application/vnd.docker.distribution.manifest.v1+prettyjws" is not an image manifest or index' }]
    });
  });

  it("a delete naming neither digest nor tag is ignored", () => {
    const body = pushWith((b) => {
      b.action = "delete";
      delete b.target.digest;
      delete b.target.tag;
    });
    expect(parseAcrWebhook(body)).toMatchObject({ events: [], ignored: [{ reason: "delete names neither target.digest nor target.tag" }] });
  });

  it("a push without a media type is passed on: the consumer classifies what it fetches", () => {
    const result = parseAcrWebhook(pushWith((b) => delete b.target.mediaType));
    expect(result).toMatchObject({ kind: "events", events: [{ action: "push", repository: "hello-world" }] });
    expect(result.kind === "events" && result.events[0]?.mediaType).toBeUndefined();
  });
});

describe("parseAcrWebhook: malformed bodies name the field", () => {
  it.each<[string, string, string]>([
    ["not JSON", "{", "body: is not valid JSON"],
    ["an array", "[]", "body: expected a JSON object"],
    ["no action", pushWith((b) => delete b.action), "action: is required"],
    ["action not a string", pushWith((b) => (b.action = 7)), "action: Invalid input: expected string, received number"],
    ["action oversized", pushWith((b) => (b.action = "p".repeat(65))), "action: must be at most 64 characters"],
    ["no id", pushWith((b) => delete b.id), "id: is required"],
    ["empty id", pushWith((b) => (b.id = "")), "id: must not be empty"],
    ["oversized id", pushWith((b) => (b.id = "i".repeat(257))), "id: must be at most 256 characters"],
    ["id with a control character", pushWith((b) => (b.id = "a\nb")), "id: must not contain control characters"],
    ["no timestamp", pushWith((b) => delete b.timestamp), "timestamp: is required"],
    ["bad timestamp", pushWith((b) => (b.timestamp = "yesterday")), "timestamp: expected an RFC 3339 time such as 2023-11-17T16:52:01.343145347Z"],
    ["impossible date", pushWith((b) => (b.timestamp = "2023-02-30T10:00:00Z")), "timestamp: expected an RFC 3339 time such as 2023-11-17T16:52:01.343145347Z"],
    ["no target", pushWith((b) => Reflect.deleteProperty(b, "target")), "target: is required"],
    ["no repository", pushWith((b) => delete b.target.repository), "target.repository: is required"],
    ["uppercase repository", pushWith((b) => (b.target.repository = "Hello")), "target.repository: expected a repository name as the OCI distribution spec defines it"],
    ["oversized repository", pushWith((b) => (b.target.repository = "a".repeat(256))), "target.repository: must be at most 255 characters"],
    ["bad digest", pushWith((b) => (b.target.digest = "sha256:xxxxd5c8786bb9e621a45ece0dbxxxx1cdc624ad20da9fe62e9d25490f33xxxx")), "target.digest: expected a lowercase sha256:<64 hex> or sha512:<128 hex> digest"],
    ["uppercase digest", pushWith((b) => (b.target.digest = `sha256:${"A".repeat(64)}`)), "target.digest: expected a lowercase sha256:<64 hex> or sha512:<128 hex> digest"],
    ["digest a number", pushWith((b) => (b.target.digest = 12)), "target.digest: expected a lowercase sha256:<64 hex> or sha512:<128 hex> digest"],
    ["push without digest", pushWith((b) => delete b.target.digest), "target.digest: is required for a push"],
    ["bad tag", pushWith((b) => (b.target.tag = "-v1")), "target.tag: expected a tag of at most 128 characters [A-Za-z0-9_.-], not starting with . or -"],
    ["oversized tag", pushWith((b) => (b.target.tag = "v".repeat(129))), "target.tag: expected a tag of at most 128 characters [A-Za-z0-9_.-], not starting with . or -"],
    ["negative size", pushWith((b) => (b.target.size = -1)), "target.size: must not be negative"],
    ["fractional size", pushWith((b) => (b.target.size = 1.5)), "target.size: expected a whole number of bytes"],
    ["size a string", pushWith((b) => (b.target.size = "524")), "target.size: expected a number of bytes"],
    ["bad media type", pushWith((b) => (b.target.mediaType = "manifest")), "target.mediaType: expected a media type type/subtype"],
    ["no request", pushWith((b) => Reflect.deleteProperty(b, "request")), "request: is required"],
    ["no request.host", pushWith((b) => delete b.request.host), "request.host: is required"],
    ["bad request.host", pushWith((b) => (b.request.host = "my registry")), "request.host: expected a lowercase registry host, with an optional port"],
    ["oversized request.host", pushWith((b) => (b.request.host = "a".repeat(262))), "request.host: must be at most 261 characters"],
    ["oversized useragent", pushWith((b) => (b.request.useragent = "u".repeat(2049))), "request.useragent: must be at most 2048 characters"]
  ])("%s", (_name, body, reason) => {
    const result = parseAcrWebhook(body);
    expect(result).toEqual({ kind: "invalid", field: reason.slice(0, reason.indexOf(":")), reason });
  });
});
