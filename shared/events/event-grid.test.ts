import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEventGrid } from "./event-grid.js";

function example(name: string): string {
  return readFileSync(new URL(`./examples/${name}`, import.meta.url), "utf8");
}

type Json = Record<string, unknown>;
interface AcrData extends Json {
  target: Json;
  request: Json;
}
interface EventGridEvent extends Json {
  data: AcrData;
}

function pushedWith(change: (event: EventGridEvent, all: EventGridEvent[]) => void): string {
  const events = JSON.parse(example("eventgrid-image-pushed.json")) as EventGridEvent[];
  const first = events[0];
  if (first === undefined) throw new Error("the example has an event");
  change(first, events);
  return JSON.stringify(events);
}

const PUSHED = {
  action: "push",
  registry: "demo.azurecr.io",
  repository: "aci-helloworld",
  tag: "v1",
  digest: "sha256:213bbc182920ab41e18edc2001e06abcca6735d87782d9cef68abd83941cf0e5",
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  time: "2018-04-25T21:39:47.276Z",
  eventId: "31c51664-e5bd-416a-a5df-e5206bc47ed0",
  userAgent:
    "docker/18.03.0-ce go/go1.9.4 git-commit/0520e24 os/windows arch/amd64 UpstreamClient(Docker-Client/18.03.0-ce \\\\(windows\\\\))",
  size: 3023
} as const;

describe("parseEventGrid: Event Grid schema examples", () => {
  it("ImagePushed → a push, with the actor", () => {
    expect(parseEventGrid("application/json", example("eventgrid-image-pushed.json"))).toEqual({
      kind: "events",
      events: [{ ...PUSHED, source: "eventgrid", actor: "deploy-bot" }],
      ignored: []
    });
  });

  it("ImageDeleted → a delete (data.id is the event id)", () => {
    expect(parseEventGrid("application/json; charset=utf-8", example("eventgrid-image-deleted.json"))).toEqual({
      kind: "events",
      events: [
        {
          action: "delete",
          registry: "myregistry.azurecr.io",
          repository: "empty-test",
          digest: "sha256:bc4b23b58840b73e24d7be3ff6baa477a830999023af4c75c83ec4db6c86fc9a",
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          time: "2021-02-09T22:46:40.975Z",
          source: "eventgrid",
          eventId: "0d7964cf-58f8-4f6d-b9b2-03ead7a9e223",
          userAgent:
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.150 Safari/537.36 Edg/88.0.705.63"
        }
      ],
      ignored: []
    });
  });

  it("ChartPushed → acknowledged and ignored", () => {
    expect(parseEventGrid("application/json", example("eventgrid-chart-pushed.json"))).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: "Microsoft.ContainerRegistry.ChartPushed: a Helm chart event, not about an image", eventId: "ea3a9c28-5b7a-4fd2-9d3e-2c7a1f0b8e4d" }]
    });
  });

  it("the subscription validation event → the code to echo", () => {
    expect(parseEventGrid("application/json", example("eventgrid-subscription-validation.json"))).toEqual({
      kind: "subscription-validation",
      validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
      validationUrl:
        "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/estest/validate?id=512d38b6-c7b8-40c8-89fe-f46f9e9622b6&t=2018-04-26T20:30:54.4538837Z&apiVersion=2018-05-01-preview&token=1A1A1A1A",
      response: { validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" }
    });
  });

  it("a content type is optional; an empty array is nothing to do", () => {
    expect(parseEventGrid(undefined, example("eventgrid-image-pushed.json"))).toMatchObject({ kind: "events", events: [{ action: "push" }] });
    expect(parseEventGrid("application/json", "[]")).toEqual({ kind: "events", events: [], ignored: [] });
  });

  it("a batch keeps order and mixes events with ignored ones", () => {
    const pushed = JSON.parse(example("eventgrid-image-pushed.json")) as unknown[];
    const deleted = JSON.parse(example("eventgrid-image-deleted.json")) as unknown[];
    const chart = JSON.parse(example("eventgrid-chart-pushed.json")) as unknown[];
    const result = parseEventGrid("application/json", JSON.stringify([...deleted, ...chart, ...pushed]));
    expect(result).toMatchObject({ kind: "events", events: [{ action: "delete" }, { action: "push" }], ignored: [{ eventId: "ea3a9c28-5b7a-4fd2-9d3e-2c7a1f0b8e4d" }] });
  });
});

describe("parseEventGrid: Event Grid schema ignore paths", () => {
  it("other event types are ignored with the type in the reason", () => {
    const body = pushedWith((e) => (e.eventType = "Microsoft.Storage.BlobCreated"));
    expect(parseEventGrid("application/json", body)).toEqual({
      kind: "events",
      events: [],
      ignored: [{ reason: 'event type "Microsoft.Storage.BlobCreated" is not handled', eventId: "831e1650-001e-001b-66ab-eeb76e069631" }]
    });
  });

  it("an ImagePushed of a blob media type is ignored", () => {
    const body = pushedWith((e) => (e.data.target.mediaType = "application/vnd.oci.image.config.v1+json"));
    expect(parseEventGrid("application/json", body)).toMatchObject({ events: [], ignored: [{ reason: 'blob event: target.mediaType "application/vnd.oci.image.config.v1+json" is not a manifest' }] });
  });

  it('empty strings and nulls count as absent ("tag": "" on a delete, "actor": null)', () => {
    const body = pushedWith((e) => {
      e.eventType = "Microsoft.ContainerRegistry.ImageDeleted";
      e.data.target.tag = "";
      e.data.actor = null;
      e.data.request.useragent = "";
    });
    const result = parseEventGrid("application/json", body);
    expect(result).toMatchObject({ kind: "events", events: [{ action: "delete" }] });
    const event = result.kind === "events" ? result.events[0] : undefined;
    expect(event?.tag).toBeUndefined();
    expect(event?.actor).toBeUndefined();
    expect(event?.userAgent).toBeUndefined();
  });
});

describe("parseEventGrid: malformed Event Grid schema bodies name the field", () => {
  it.each<[string, string, string]>([
    ["not JSON", "nope", "body: is not valid JSON"],
    ["a string", '"x"', "body: expected a JSON array of Event Grid events"],
    ["an object without specversion", "{}", "body: expected a JSON array of Event Grid events"],
    ["an element not an object", "[1]", "[0]: expected an Event Grid event object"],
    ["no eventType", pushedWith((e) => delete e.eventType), "[0].eventType: is required"],
    ["no id", pushedWith((e) => delete e.id), "[0].id: is required"],
    ["no data", pushedWith((e) => Reflect.deleteProperty(e, "data")), "[0].data: is required"],
    ["data not an object", pushedWith((e) => (e.data = "x" as unknown as AcrData)), "[0].data: Invalid input: expected object, received string"],
    ["no data.request.host", pushedWith((e) => delete e.data.request.host), "[0].data.request.host: is required"],
    ["bad data.target.digest", pushedWith((e) => (e.data.target.digest = "sha256:213bbc18")), "[0].data.target.digest: expected a lowercase sha256:<64 hex> or sha512:<128 hex> digest"],
    ["no data.target.digest on a push", pushedWith((e) => delete e.data.target.digest), "[0].data.target.digest: is required for a push"],
    ["oversized subject", pushedWith((e) => (e.subject = "s".repeat(1025))), "[0].subject: must be at most 1024 characters"],
    [
      "a validation event with company",
      JSON.stringify([...(JSON.parse(example("eventgrid-image-pushed.json")) as unknown[]), ...(JSON.parse(example("eventgrid-subscription-validation.json")) as unknown[])]),
      "[1].eventType: a subscription validation event must come alone"
    ],
    [
      "a validation event without a code",
      example("eventgrid-subscription-validation.json").replace('"validationCode"', '"code"'),
      "[0].data.validationCode: is required"
    ],
    [
      "a later bad event spoils the batch",
      pushedWith((_e, all) => all.push({ ...all[0], data: { ...all[0]?.data, timestamp: "soon" } } as EventGridEvent)),
      "[1].data.timestamp: expected an RFC 3339 time such as 2023-11-17T16:52:01.343145347Z"
    ]
  ])("%s", (_name, body, reason) => {
    expect(parseEventGrid("application/json", body)).toEqual({ kind: "invalid", field: reason.slice(0, reason.indexOf(": ")), reason });
  });

  it("more events than the limit", () => {
    const one = JSON.parse(example("eventgrid-image-pushed.json")) as unknown[];
    const body = JSON.stringify(Array.from({ length: 3 }, () => one[0]));
    expect(parseEventGrid("application/json", body, { maxEvents: 2 })).toEqual({ kind: "invalid", field: "body", reason: "body: holds 3 events, more than the limit of 2" });
    expect(parseEventGrid("application/json", body, { maxEvents: 3 })).toMatchObject({ kind: "events" });
  });

  it("a content type other than JSON or CloudEvents → unsupported-media-type", () => {
    expect(parseEventGrid("text/plain", example("eventgrid-image-pushed.json"))).toEqual({
      kind: "unsupported-media-type",
      reason: 'Content-Type "text/plain" is not application/json, application/cloudevents+json or application/cloudevents-batch+json'
    });
  });
});

describe("parseEventGrid: CloudEvents", () => {
  it("one CloudEvent (application/cloudevents+json) → a push", () => {
    expect(parseEventGrid("application/cloudevents+json; charset=utf-8", example("cloudevents-image-pushed.json"))).toEqual({
      kind: "events",
      events: [{ ...PUSHED, source: "cloudevents" }],
      ignored: []
    });
  });

  it("one CloudEvent sent as application/json is recognised by specversion", () => {
    expect(parseEventGrid("application/json", example("cloudevents-image-pushed.json"))).toMatchObject({ kind: "events", events: [{ source: "cloudevents" }] });
  });

  it("a batch (application/cloudevents-batch+json) → push, delete, and the chart ignored", () => {
    expect(parseEventGrid("application/cloudevents-batch+json", example("cloudevents-batch.json"))).toEqual({
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
          source: "cloudevents",
          eventId: "5f1e2b7a-3c4d-4e8f-9a0b-1c2d3e4f5a6b",
          userAgent: "buildkit/v0.13",
          actor: "00000000-0000-0000-0000-000000000000",
          size: 856
        },
        {
          action: "delete",
          registry: "myregistry.azurecr.io",
          repository: "team/web",
          digest: "sha256:bc4b23b58840b73e24d7be3ff6baa477a830999023af4c75c83ec4db6c86fc9a",
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          time: "2024-05-02T09:20:02.884Z",
          source: "cloudevents",
          eventId: "e1d2c3b4-a5f6-4e7d-8c9b-0a1b2c3d4e5f",
          userAgent: "azsdk-python-containerregistry/1.2.0 Python/3.11.4 (Linux-5.15.0-1052-azure-x86_64-with-glibc2.35)"
        }
      ],
      ignored: [{ reason: "Microsoft.ContainerRegistry.ChartPushed: a Helm chart event, not about an image", eventId: "9d8a5b2c-001e-001b-66ab-eeb76e06a003" }]
    });
  });

  it("a batch sent as application/json (the documentation's array form) is recognised too", () => {
    expect(parseEventGrid("application/json", example("cloudevents-batch.json"))).toMatchObject({ kind: "events", events: [{ action: "push" }, { action: "delete" }] });
  });

  it.each<[string, string | undefined, string, string]>([
    ["an array as a single CloudEvent", "application/cloudevents+json", "[]", "body: expected one CloudEvent object (application/cloudevents+json)"],
    ["an object as a batch", "application/cloudevents-batch+json", "{}", "body: expected a JSON array of CloudEvents (application/cloudevents-batch+json)"],
    ["a wrong specversion", "application/cloudevents+json", example("cloudevents-image-pushed.json").replace('"1.0"', '"0.3"'), 'specversion: expected "1.0"'],
    ["no type", "application/cloudevents+json", example("cloudevents-image-pushed.json").replace('"type"', '"kind"'), "type: is required"],
    ["no source", "application/cloudevents+json", example("cloudevents-image-pushed.json").replace('"source"', '"origin"'), "source: is required"],
    [
      "binary data",
      "application/cloudevents+json",
      JSON.stringify({ ...(JSON.parse(example("cloudevents-image-pushed.json")) as Json), data: undefined, data_base64: "e30=" }),
      "data_base64: binary data is not supported: expected JSON in data"
    ],
    ["a bad event in a batch", "application/cloudevents-batch+json", example("cloudevents-batch.json").replace('"team/web"', '"Team/Web"'), "[0].data.target.repository: expected a repository name as the OCI distribution spec defines it"],
    [
      "an array mixing both schemas",
      "application/json",
      JSON.stringify([...(JSON.parse(example("cloudevents-batch.json")) as unknown[]), ...(JSON.parse(example("eventgrid-image-pushed.json")) as unknown[])]),
      "[3]: mixes CloudEvents and Event Grid schema events in one array"
    ]
  ])("%s", (_name, contentType, body, reason) => {
    expect(parseEventGrid(contentType, body)).toEqual({ kind: "invalid", field: reason.slice(0, reason.indexOf(": ")), reason });
  });

  it("a batch over the limit", () => {
    expect(parseEventGrid("application/cloudevents-batch+json", example("cloudevents-batch.json"), { maxEvents: 2 })).toEqual({
      kind: "invalid",
      field: "body",
      reason: "body: holds 3 events, more than the limit of 2"
    });
  });
});
