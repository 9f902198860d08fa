import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDistribution } from "./distribution.js";

const V1 = "application/vnd.docker.distribution.events.v1+json";
const V2 = "application/vnd.docker.distribution.events.v2+json";

function example(name: string): string {
  return readFileSync(new URL(`./examples/${name}`, import.meta.url), "utf8");
}

type Json = Record<string, unknown>;
interface DistributionEvent extends Json {
  target: Json;
  request: Json;
}

function firstEvent(name: string): DistributionEvent {
  const envelope = JSON.parse(example(name)) as { events: DistributionEvent[] };
  const event = envelope.events[0];
  if (event === undefined) throw new Error(`${name} has an event`);
  return event;
}

function pushWith(change: (event: DistributionEvent) => void): string {
  const event = firstEvent("distribution-v1-push.json");
  change(event);
  return JSON.stringify({ events: [event] });
}

const SINGLE = "sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c3c36eb";
const MULTI = "sha256:45b23dee08af5e43a7fea6c4cf9c25ccf269ee113168c19722f87876677c5cb2";

describe("parseDistribution: the examples", () => {
  it("v1 push of a manifest (as Debian's docker-registry 2.8.2 sends it)", () => {
    expect(parseDistribution(V1, example("distribution-v1-push.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "push",
          registry: "127.0.0.1:5000",
          repository: "scanhook/single",
          tag: "v1",
          digest: SINGLE,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          time: "2026-11-23T01:52:07.614Z",
          source: "distribution",
          eventId: "0a6e1c5f-2b1f-4d0e-9a8c-5b7e3f1d2c4a",
          userAgent: "containers/5.24.1 (github.com/containers/image)",
          size: 407
        }
      ],
      ignored: []
    });
  });

  it("v1 pull (the documented example, local time with an offset) → a pull in UTC", () => {
    expect(parseDistribution(V1, example("distribution-v1-pull.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "pull",
          registry: "192.168.100.227:5000",
          repository: "hello-world",
          tag: "latest",
          digest: "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf",
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          time: "2016-03-09T22:44:26.402Z",
          source: "distribution",
          eventId: "320678d8-ca14-430f-8bb6-4ca139cd83f7",
          userAgent: "curl/7.38.0",
          size: 708
        }
      ],
      ignored: []
    });
  });

  it("v1 HEAD pull of an index with htpasswd auth → a pull with the actor", () => {
    expect(parseDistribution(V1, example("distribution-v1-pull-head-authenticated.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "pull",
          registry: "127.0.0.1:5000",
          repository: "scanhook/multi",
          tag: "v2",
          digest: MULTI,
          mediaType: "application/vnd.oci.image.index.v1+json",
          time: "2026-11-23T02:03:41.220Z",
          source: "distribution",
          eventId: "7e3f9a1c-4b2d-4c8e-a6f0-3d5b7c9e1a2f",
          userAgent: "scanhook/0.1.0 node/20.19.0",
          actor: "scanhook",
          size: 743
        }
      ],
      ignored: []
    });
  });

  it("v1 delete of a manifest → a delete with the digest only", () => {
    expect(parseDistribution(V1, example("distribution-v1-delete-manifest.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "delete",
          registry: "127.0.0.1:5000",
          repository: "scanhook/single",
          digest: SINGLE,
          time: "2026-11-23T02:10:15.772Z",
          source: "distribution",
          eventId: "b2d4f6a8-1c3e-4a5b-8d7f-9e0a2c4e6f8b",
          userAgent: "curl/8.5.0"
        }
      ],
      ignored: []
    });
  });

  it("v1 delete of a tag → a delete with the tag and no digest", () => {
    expect(parseDistribution(V1, example("distribution-v1-delete-tag.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "delete",
          registry: "127.0.0.1:5000",
          repository: "scanhook/single",
          tag: "v1",
          time: "2026-11-23T02:10:15.772Z",
          source: "distribution",
          eventId: "c3e5a7b9-2d4f-4b6a-9e8c-0f1b3d5f7a9c",
          userAgent: "curl/8.5.0"
        }
      ],
      ignored: []
    });
  });

  it("v1 blob push → ignored as a blob event", () => {
    expect(parseDistribution(V1, example("distribution-v1-blob-push.json"))).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: 'blob event: target.mediaType "application/octet-stream" is not a manifest', eventId: "4f9d2e1a-6c3b-4a8e-b7d5-1f0e9c8b7a6d" }]
    });
  });

  it("v1 mount → ignored", () => {
    expect(parseDistribution(V1, example("distribution-v1-mount.json"))).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: "mount: a cross-repository blob mount, not a manifest", eventId: "e4f6a8c0-3e5a-4c7b-8f9d-1a2c4e6a8c0e" }]
    });
  });

  it("v2 push of an index with references (distribution 3)", () => {
    expect(parseDistribution(V2, example("distribution-v2-push-index.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "push",
          registry: "registry.example.com",
          repository: "scanhook/multi",
          tag: "v2",
          digest: MULTI,
          mediaType: "application/vnd.oci.image.index.v1+json",
          time: "2026-11-23T02:15:00.482Z",
          source: "distribution",
          eventId: "1b3d5f7a-9c1e-4a3b-8d5f-7a9c1e3b5d7f",
          userAgent: "containerd/1.7.13",
          actor: "ci",
          size: 743
        }
      ],
      ignored: []
    });
  });

  it('v2 delete by tag with Go zero values ("mediaType": "", "digest": "", "size": 0) → a delete by tag', () => {
    expect(parseDistribution(V2, example("distribution-v2-delete-tag.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "delete",
          registry: "registry.example.com",
          repository: "scanhook/multi",
          tag: "v2",
          time: "2026-11-23T03:20:41.900Z",
          source: "distribution",
          eventId: "5f7a9c1e-3b5d-4f7a-9c1e-3b5d7f9a1c3e",
          userAgent: "regclient/v0.5.7",
          actor: "ci"
        }
      ],
      ignored: []
    });
  });

  it("a batch of unrelated events keeps order; an envelope without events is nothing to do", () => {
    const events = ["distribution-v1-blob-push.json", "distribution-v1-push.json", "distribution-v1-mount.json", "distribution-v1-pull.json"].map(firstEvent);
    const result = parseDistribution(V1, JSON.stringify({ events }));
    expect(result).toMatchObject({ kind: "events", events: [{ action: "push" }, { action: "pull" }] });
    expect(result.kind === "events" && result.ignored.length).toBe(2);
    expect(parseDistribution(V2, "{}")).toEqual({ kind: "events", events: [], ignored: [] });
    expect(parseDistribution(V2, '{"events":null}')).toEqual({ kind: "events", events: [], ignored: [] });
  });

  it("accepts application/json and no content type; refuses others", () => {
    expect(parseDistribution("application/json", example("distribution-v1-push.json"))).toMatchObject({ kind: "events" });
    expect(parseDistribution(undefined, example("distribution-v1-push.json"))).toMatchObject({ kind: "events" });
    expect(parseDistribution(`${V1}; charset=utf-8`, example("distribution-v1-push.json"))).toMatchObject({ kind: "events" });
    expect(parseDistribution("application/x-www-form-urlencoded", example("distribution-v1-push.json"))).toEqual({
      kind: "unsupported-media-type",
      reason:
        'Content-Type "application/x-www-form-urlencoded" is not application/vnd.docker.distribution.events.v1+json, application/vnd.docker.distribution.events.v2+json or application/json'
    });
  });
});

describe("parseDistribution: ignore paths", () => {
  it("an unknown action", () => {
    expect(parseDistribution(V1, pushWith((e) => (e.action = "replicate")))).toMatchObject({ events: [], ignored: [{ reason: 'action "replicate" is not handled' }] });
  });

  it("a pull of a config blob", () => {
    expect(parseDistribution(V1, pushWith((e) => ((e.action = "pull"), (e.target.mediaType = "application/vnd.docker.container.image.v1+json"))))).toMatchObject({
      events: [],
      ignored: [{ reason: 'blob event: target.mediaType "application/vnd.docker.container.image.v1+json" is not a manifest' }]
    });
  });

  it("a delete naming neither digest nor tag", () => {
    const body = pushWith((e) => {
      e.action = "delete";
      e.target = { repository: "scanhook/single" };
    });
    expect(parseDistribution(V1, body)).toMatchObject({ events: [], ignored: [{ reason: "delete names neither target.digest nor target.tag" }] });
  });
});

describe("parseDistribution: malformed bodies name the field", () => {
  it.each<[string, string, string]>([
    ["not JSON", "{events:", "body: is not valid JSON"],
    ["an array", "[]", "body: expected a JSON object with an events array"],
    ["events not an array", '{"events":{}}', "events: expected an array of events"],
    ["an event not an object", '{"events":[7]}', "events[0]: expected an event object"],
    ["no action", pushWith((e) => delete e.action), "events[0].action: is required"],
    ["no id", pushWith((e) => delete e.id), "events[0].id: is required"],
    ["no timestamp", pushWith((e) => delete e.timestamp), "events[0].timestamp: is required"],
    ["no target", pushWith((e) => Reflect.deleteProperty(e, "target")), "events[0].target: is required"],
    ["no request", pushWith((e) => Reflect.deleteProperty(e, "request")), "events[0].request: is required"],
    ["no request.host", pushWith((e) => delete e.request.host), "events[0].request.host: is required"],
    ["bad digest", pushWith((e) => (e.target.digest = "sha256:9B2A")), "events[0].target.digest: expected a lowercase sha256:<64 hex> or sha512:<128 hex> digest"],
    ["push without digest", pushWith((e) => delete e.target.digest), "events[0].target.digest: is required for a push"],
    ["pull without digest", pushWith((e) => ((e.action = "pull"), delete e.target.digest)), "events[0].target.digest: is required for a pull"],
    ["bad repository", pushWith((e) => (e.target.repository = "/abs")), "events[0].target.repository: expected a repository name as the OCI distribution spec defines it"],
    ["bad fromRepository", pushWith((e) => (e.target.fromRepository = "UP")), "events[0].target.fromRepository: expected a repository name as the OCI distribution spec defines it"],
    ["oversized url", pushWith((e) => (e.target.url = `http://x/${"u".repeat(2048)}`)), "events[0].target.url: must be at most 2048 characters"],
    ["actor not an object", pushWith((e) => (e.actor = "root")), "events[0].actor: Invalid input: expected object, received string"],
    ["oversized actor name", pushWith((e) => (e.actor = { name: "n".repeat(257) })), "events[0].actor.name: must be at most 256 characters"]
  ])("%s", (_name, body, reason) => {
    expect(parseDistribution(V1, body)).toEqual({ kind: "invalid", field: reason.slice(0, reason.indexOf(": ")), reason });
  });

  it("more events than the limit", () => {
    const event = firstEvent("distribution-v1-push.json");
    const body = JSON.stringify({ events: [event, event, event] });
    expect(parseDistribution(V1, body, { maxEvents: 2 })).toEqual({ kind: "invalid", field: "events", reason: "events: holds 3 events, more than the limit of 2" });
  });
});
