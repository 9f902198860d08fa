import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/all.js";
import { startLocalHost, type LocalHost } from "../../functions/host/local-host.js";
import { loadSettings } from "../../shared/config.js";
import type { Digest } from "../../shared/domain/digest.js";
import { createLogger } from "../../shared/log.js";
import { freePort, killAzuritesUnder } from "../host/azurite-helpers.js";

/**
 * The three webhook endpoints over real HTTP on the local host, with the consumer switched off so
 * what was enqueued can be read back: every accepted shape, and every bad-input row of the issue
 * (400, 401, 403, 413, 415, 503 with Retry-After) changing nothing stored.
 */

const example = (name: string): string => readFileSync(new URL(`../../shared/events/examples/${name}`, import.meta.url), "utf8");
const quiet = createLogger("error");
// Every host the real-shaped examples name.
const REGISTRIES = "myregistry.azurecr.io,demo.azurecr.io,registry.example.com,http://127.0.0.1:5000,192.168.100.227:5000";
const ACR_DIGEST = "sha256:0f1cd5c8786bb9e621a45ece0dbe4f21cdc624ad20da9fe62e9d25490f33a2b7" as Digest;

describe("webhooks", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-webhooks-"));
  let host: LocalHost;
  let base: string;
  let key: string;

  beforeAll(async () => {
    const settings = loadSettings([
      {
        PORT: String(await freePort()),
        AZURITE_BLOB_PORT: String(await freePort()),
        AZURITE_QUEUE_PORT: String(await freePort()),
        SCANHOOK_DATA_DIR: join(dir, "data"),
        REGISTRIES,
        HTTP_MAX_BODY_BYTES: "65536",
        VULNDB_DOWNLOAD: "false",
        "AzureWebJobs.scanRequests.Disabled": "true"
      }
    ]);
    host = await startLocalHost({ settings, functions: FUNCTIONS, log: quiet });
    base = host.url;
    key = host.keys.keys.webhook[0] ?? "";
  });

  afterAll(async () => {
    await host?.stop();
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, base), { method: "POST", body, headers: { "x-functions-key": key, "content-type": "application/json", ...headers } });

  async function queued(): Promise<unknown[]> {
    const service = QueueServiceClient.fromConnectionString(host.azurite?.connectionString ?? "");
    const queue = service.getQueueClient("scan-requests");
    if (!(await queue.exists())) return [];
    const peeked = await queue.peekMessages({ numberOfMessages: 32 });
    return peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")) as unknown);
  }

  it("an ACR push records the location and enqueues a scan request; a ping is acknowledged", async () => {
    const r = await post("api/webhooks/acr", example("acr-push.json"));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 1, scansRequested: 1, ignored: [] });
    const record = (await host.services.store.images.get(ACR_DIGEST))?.doc;
    expect(record?.locations.map((l) => [l.registry, l.repository, l.tags])).toEqual([["myregistry.azurecr.io", "hello-world", ["v1"]]]);
    expect(await queued()).toContainEqual(expect.objectContaining({ kind: "index", digest: ACR_DIGEST, registry: "myregistry.azurecr.io", repository: "hello-world", tag: "v1" }));

    const ping = await post("api/webhooks/acr", example("acr-ping.json"));
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ accepted: 0, scansRequested: 0 });
  });

  it("Event Grid: the validation handshake, then a push; CloudEvents single and batched; the OPTIONS handshake", async () => {
    const validation = await post("api/webhooks/eventgrid", example("eventgrid-subscription-validation.json"));
    expect(validation.status).toBe(200);
    expect(await validation.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });

    const pushed = await post("api/webhooks/eventgrid", example("eventgrid-image-pushed.json"), { "aeg-event-type": "Notification" });
    expect(pushed.status).toBe(200);
    expect((await pushed.json()) as { accepted: number }).toMatchObject({ accepted: 1 });

    const single = await post("api/webhooks/eventgrid", example("cloudevents-image-pushed.json"), { "content-type": "application/cloudevents+json" });
    expect(single.status).toBe(200);
    const batch = await post("api/webhooks/eventgrid", example("cloudevents-batch.json"), { "content-type": "application/cloudevents-batch+json" });
    expect(batch.status).toBe(200);

    const options = await fetch(new URL("api/webhooks/eventgrid", base), {
      method: "OPTIONS",
      headers: { "x-functions-key": key, "WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "120" }
    });
    expect(options.status).toBe(200);
    expect(options.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
    expect(options.headers.get("webhook-allowed-rate")).toBe("120");
  });

  it("distribution: a push, a pull sets last-pulled, a delete by tag removes the tag", async () => {
    const push = JSON.parse(example("distribution-v1-push.json")) as { events: { target: { digest: string; tag?: string; repository: string } }[] };
    const digest = push.events[0]?.target.digest as Digest;
    expect((await post("api/webhooks/distribution", JSON.stringify(push), { "content-type": "application/vnd.docker.distribution.events.v1+json" })).status).toBe(200);
    expect((await host.services.store.images.get(digest))?.doc.kind).toBeUndefined();

    const pull = await post("api/webhooks/distribution", example("distribution-v1-pull.json"), { "content-type": "application/vnd.docker.distribution.events.v1+json" });
    expect(pull.status).toBe(200);
    const pulled = JSON.parse(example("distribution-v1-pull.json")) as { events: { target: { digest: string } }[] };
    const pulledDigest = pulled.events[0]?.target.digest as Digest;
    expect((await host.services.store.images.get(pulledDigest))?.doc.lastPulledAt).toBeDefined();

    expect((await host.services.store.images.get(digest))?.doc.locations[0]?.tags).toEqual(["v1"]);
    const untag = await post("api/webhooks/distribution", example("distribution-v1-delete-tag.json"), { "content-type": "application/vnd.docker.distribution.events.v1+json" });
    expect(untag.status).toBe(200);
    expect((await host.services.store.images.get(digest))?.doc.locations[0]?.tags).toEqual([]);
  });

  describe("bad input changes nothing", () => {
    async function snapshot(): Promise<string> {
      const page = await host.services.store.images.query({}, { limit: 1000 });
      return JSON.stringify(page.items);
    }

    it("401 without the webhook key or with the read key", async () => {
      const before = await snapshot();
      expect((await fetch(new URL("api/webhooks/acr", base), { method: "POST", body: example("acr-push.json") })).status).toBe(401);
      const readKey = host.keys.keys.read[0] ?? "";
      expect((await post("api/webhooks/acr", example("acr-push.json"), { "x-functions-key": readKey })).status).toBe(401);
      expect(await snapshot()).toBe(before);
    });

    it("400 naming the field for a malformed body, 415 for an unknown content type", async () => {
      const before = await snapshot();
      const broken = JSON.parse(example("acr-push.json")) as { target: { digest: string } };
      broken.target.digest = "sha256:not-a-digest";
      const r = await post("api/webhooks/acr", JSON.stringify(broken));
      expect(r.status).toBe(400);
      const body = (await r.json()) as { error: { code: string; message: string; field: string } };
      expect(body.error.code).toBe("EVENT.INVALID");
      expect(body.error.field).toBe("target.digest");
      expect((await post("api/webhooks/acr", "{not json")).status).toBe(400);
      expect((await post("api/webhooks/distribution", example("distribution-v1-push.json"), { "content-type": "text/plain" })).status).toBe(415);
      expect(await snapshot()).toBe(before);
    });

    it("403 with the reason for a registry not in REGISTRIES", async () => {
      const before = await snapshot();
      const other = example("acr-push.json").replace("myregistry.azurecr.io", "elsewhere.azurecr.io");
      const r = await post("api/webhooks/acr", other);
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain("elsewhere.azurecr.io");
      expect(await snapshot()).toBe(before);
    });

    it("413 over HTTP_MAX_BODY_BYTES", async () => {
      const before = await snapshot();
      const r = await post("api/webhooks/acr", JSON.stringify({ padding: "x".repeat(70_000) }));
      expect(r.status).toBe(413);
      expect(await snapshot()).toBe(before);
    });
  });
});

describe("webhooks when the queue is down", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-webhooks-down-"));
  let host: LocalHost;

  beforeAll(async () => {
    const deadPort = await freePort();
    const settings = loadSettings([
      {
        PORT: String(await freePort()),
        SCANHOOK_DATA_DIR: join(dir, "data"),
        REGISTRIES,
        // Nothing listens there: every enqueue fails.
        AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:${deadPort}/devstoreaccount1;BlobEndpoint=http://127.0.0.1:${deadPort}/devstoreaccount1;`,
        "AzureWebJobs.scanRequests.Disabled": "true",
        // Queue consumers need the queue service to start; this host has none that answers.
        "AzureWebJobs.rematchRequests.Disabled": "true",
        VULNDB_DOWNLOAD: "false"
      }
    ]);
    host = await startLocalHost({ settings, functions: FUNCTIONS, log: quiet });
  });

  afterAll(async () => {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 with Retry-After and stores nothing, so the registry delivers again", async () => {
    const r = await fetch(new URL("api/webhooks/acr", host.url), {
      method: "POST",
      body: example("acr-push.json"),
      headers: { "x-functions-key": host.keys.keys.webhook[0] ?? "", "content-type": "application/json" }
    });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("30");
    expect(await host.services.store.images.get(ACR_DIGEST)).toBeUndefined();
    const health = await fetch(new URL("api/health", host.url), { headers: { "x-functions-key": host.keys.keys.read[0] ?? "" } });
    expect(health.status).toBe(503);
  });
});
