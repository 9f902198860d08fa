import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/all.js";
import { startLocalHost, type LocalHost } from "../../functions/host/local-host.js";
import { loadSettings, type Settings } from "../../shared/config.js";
import type { Digest } from "../../shared/domain/digest.js";
import type { ImageRecord } from "../../shared/domain/image-record.js";
import { createLogger } from "../../shared/log.js";
import { buildImage, buildIndex, pushImage, writeOciLayout, type BuiltImage } from "../helpers/images.js";
import { startTestHost, type TestHost } from "../helpers/host.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { eventually, freePort, killAzuritesUnder } from "../host/azurite-helpers.js";

/**
 * The whole first path over real sockets: Debian's docker-registry notifies the local host of
 * pushes and pulls; the consumer reads each manifest from the registry and records what it is.
 */

const run = promisify(execFile);
const quiet = createLogger("error");
const WEBHOOK_KEY = "w".repeat(40);
const READ_KEY = "r".repeat(40);

/** How many times scanhook fetched a manifest by digest, from the registry's request log. */
function manifestFetches(registry: TestRegistry, repository: string, digest: string): number {
  const uri = `http.request.uri="/v2/${repository}/manifests/${digest}"`;
  return registry
    .log()
    .split("\n")
    .filter((line) => line.includes('msg="response completed"') && line.includes("http.request.method=GET") && line.includes(uri) && line.includes("http.request.useragent=scanhook/"))
    .length;
}

async function record(host: LocalHost, digest: string): Promise<ImageRecord | undefined> {
  return (await host.services.store.images.get(digest))?.doc;
}

describe("registry → webhook → queue → record", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-flow-"));
  let registry: TestRegistry;
  let host: LocalHost;
  let settings: Settings;
  const image = buildImage({ layers: [{ "etc/os-release": "ID=scanhook\n" }, { "app/hello.txt": "hello" }] });
  const amd64 = buildImage({ layers: [{ "etc/os-release": "ID=amd64\n" }], platform: { os: "linux", architecture: "amd64" } });
  const arm64 = buildImage({ layers: [{ "etc/os-release": "ID=arm64\n" }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });
  const index = buildIndex([amd64, arm64]);
  const artifact = buildImage({ layers: [{ "sbom.json": "{}" }], artifactType: "application/spdx+json", configMediaType: "application/vnd.oci.empty.v1+json" });

  beforeAll(async () => {
    const port = await freePort();
    registry = await startRegistry({
      notifications: { url: `http://127.0.0.1:${port}/api/webhooks/distribution`, headers: { "x-functions-key": WEBHOOK_KEY } }
    });
    settings = loadSettings([
      {
        PORT: String(port),
        AZURITE_BLOB_PORT: String(await freePort()),
        AZURITE_QUEUE_PORT: String(await freePort()),
        SCANHOOK_DATA_DIR: join(dir, "data"),
        REGISTRIES: `http://${registry.host}`,
        WEBHOOK_KEY,
        READ_KEY,
        VULNDB_DOWNLOAD: "false"
      }
    ]);
    host = await startLocalHost({ settings, functions: FUNCTIONS, log: quiet });
  });

  afterAll(async () => {
    await host?.stop();
    await registry?.stop();
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a single-platform image pushed over HTTP becomes an image record with its layers", async () => {
    await pushImage(registry.url, "team/app", image, { tag: "v1" });
    expect(await eventually(async () => (await record(host, image.manifest.digest))?.kind === "image", 30_000)).toBe(true);
    const r = await record(host, image.manifest.digest);
    expect(r?.locations.map((l) => [l.registry, l.repository, l.tags])).toEqual([[registry.host, "team/app", ["v1"]]]);
    expect(r?.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(r?.manifest?.configDigest).toBe(image.config.digest);
    expect(r?.manifest?.layers.map((l) => l.digest)).toEqual(image.layers.map((l) => l.digest));
    // The scanner (shared/scanner) indexes it next: the record ends done, with a result.
    expect(await eventually(async () => (await record(host, image.manifest.digest))?.scan.state === "done", 30_000)).toBe(true);
  });

  it("a two-platform index pushed by skopeo becomes an index record and one record per platform", async () => {
    const layout = join(dir, "layout");
    await writeOciLayout(layout, index, "multi");
    await run("skopeo", ["copy", "--all", "--dest-tls-verify=false", `oci:${layout}:multi`, `docker://${registry.host}/team/multi:1.0`]);
    const digests = [amd64.manifest.digest, arm64.manifest.digest];
    expect(
      await eventually(async () => {
        const children = await Promise.all(digests.map((d) => record(host, d)));
        return (await record(host, index.index.digest))?.kind === "index" && children.every((c) => c?.kind === "image");
      }, 30_000)
    ).toBe(true);
    const parent = await record(host, index.index.digest);
    expect(parent?.childDigests).toEqual(digests);
    expect(parent?.scan.state).toBe("done");
    const children = await Promise.all(digests.map((d) => record(host, d)));
    expect(children.map((c) => c?.platform)).toEqual([
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" }
    ]);
    expect(children.map((c) => c?.parentDigests)).toEqual([[index.index.digest], [index.index.digest]]);
  });

  it("an artifact with an artifactType is recorded and skipped with the reason", async () => {
    await pushImage(registry.url, "team/app", artifact, { tag: "sbom" });
    expect(await eventually(async () => (await record(host, artifact.manifest.digest))?.scan.state === "skipped", 30_000)).toBe(true);
    const r = await record(host, artifact.manifest.digest);
    expect(r?.kind).toBe("artifact");
    expect(r?.skipReason).toBe("an artifact (artifactType application/spdx+json)");
  });

  it("a pull by skopeo sets last-pulled; the consumer's own manifest fetches do not", async () => {
    const before = await record(host, image.manifest.digest);
    // The consumer fetched this manifest already; its pull events carried scanhook's user agent.
    expect(manifestFetches(registry, "team/app", image.manifest.digest)).toBeGreaterThanOrEqual(1);
    expect(before?.lastPulledAt).toBeUndefined();
    await run("skopeo", ["inspect", "--tls-verify=false", `docker://${registry.host}/team/app@${image.manifest.digest}`]);
    expect(await eventually(async () => (await record(host, image.manifest.digest))?.lastPulledAt !== undefined, 30_000)).toBe(true);
  });

  it("a burst of 2,000 webhook events for 20 digests: every digest recorded, each manifest fetched once", async () => {
    const images: BuiltImage[] = Array.from({ length: 20 }, (_, i) => buildImage({ layers: [{ [`file-${i}`]: `content ${i}` }] }));
    // The pushes notify the host too; the burst then announces the same digests 100 times each.
    for (const built of images) await pushImage(registry.url, "burst/app", built);
    const events = Array.from({ length: 2000 }, (_, i) => {
      const built = images[i % images.length] as BuiltImage;
      return {
        events: [
          {
            id: `burst-${i}`,
            timestamp: "2026-11-23T10:00:00.000Z",
            action: "push",
            target: { mediaType: built.manifest.mediaType, size: built.manifest.size, digest: built.manifest.digest, length: built.manifest.size, repository: "burst/app", tag: "t" },
            request: { id: `r-${i}`, addr: "127.0.0.1:1", host: registry.host, method: "PUT", useragent: "burst-test/1.0" },
            actor: {},
            source: { addr: "127.0.0.1:1", instanceID: "burst" }
          }
        ]
      };
    });
    const statuses = await Promise.all(
      events.map(async (body) => {
        const r = await fetch(`${host.url}api/webhooks/distribution`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "x-functions-key": WEBHOOK_KEY, "content-type": "application/vnd.docker.distribution.events.v1+json" }
        });
        await r.arrayBuffer();
        return r.status;
      })
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(
      await eventually(async () => {
        const records = await Promise.all(images.map((b) => record(host, b.manifest.digest)));
        return records.every((r) => r?.kind === "image");
      }, 120_000)
    ).toBe(true);
    // Let the remaining duplicate requests drain, then count what the registry served.
    await eventually(async () => (await host.services.storage.queues.getQueueClient("scan-requests").getProperties()).approximateMessagesCount === 0, 60_000);
    for (const built of images) expect(manifestFetches(registry, "burst/app", built.manifest.digest)).toBe(1);
  });
});

describe("a host killed between accept and consume", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-kill-"));
  const children: ChildProcess[] = [];
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await registry?.stop();
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("consumes every accepted event after the restart", async () => {
    const env = {
      PORT: String(await freePort()),
      AZURITE_BLOB_PORT: String(await freePort()),
      AZURITE_QUEUE_PORT: String(await freePort()),
      SCANHOOK_DATA_DIR: join(dir, "data"),
      REGISTRIES: `http://${registry.host}`,
      WEBHOOK_KEY,
      READ_KEY,
      VULNDB_DOWNLOAD: "false"
    };
    const images = Array.from({ length: 5 }, (_, i) => buildImage({ layers: [{ [`kill-${i}`]: String(i) }] }));
    for (const built of images) await pushImage(registry.url, "kill/app", built);

    // The first host accepts events but does not consume them (the consumer is off), then dies.
    const child = spawn(process.execPath, [new URL("../../dist/functions/host/main.js", import.meta.url).pathname], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, ...env, "AzureWebJobs.scanRequests.Disabled": "true" },
      stdio: ["ignore", "pipe", "pipe"]
    });
    children.push(child);
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    expect(await eventually(() => output.includes("Ctrl-C stops everything"), 60_000)).toBe(true);
    for (const [i, built] of images.entries()) {
      const r = await fetch(`http://127.0.0.1:${env.PORT}/api/webhooks/distribution`, {
        method: "POST",
        headers: { "x-functions-key": WEBHOOK_KEY, "content-type": "application/vnd.docker.distribution.events.v1+json" },
        body: JSON.stringify({
          events: [
            {
              id: `kill-${i}`,
              timestamp: "2026-11-23T10:00:00.000Z",
              action: "push",
              target: { mediaType: built.manifest.mediaType, size: built.manifest.size, digest: built.manifest.digest, repository: "kill/app" },
              request: { id: `r-${i}`, host: registry.host, method: "PUT", useragent: "kill-test/1.0" }
            }
          ]
        })
      });
      expect(r.status).toBe(200);
    }
    child.kill("SIGKILL");
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));

    // The next host (consumer on) finds the queue in the Azurite the first one left, and drains it.
    const host = await startLocalHost({ settings: loadSettings([env]), functions: FUNCTIONS, log: quiet });
    try {
      expect(host.azurite?.reused).toBe(true);
      expect(
        await eventually(async () => {
          const records = await Promise.all(images.map((b) => record(host, b.manifest.digest as Digest)));
          return records.every((r) => r?.kind === "image");
        }, 60_000)
      ).toBe(true);
    } finally {
      await host.stop();
    }
  });
});

describe("the same push through ACR webhook, Event Grid and CloudEvents shapes", () => {
  let registry: TestRegistry;
  let t: TestHost;
  const example = (name: string) => JSON.parse(readFileSync(new URL(`../../shared/events/examples/${name}`, import.meta.url), "utf8")) as unknown;

  beforeAll(async () => {
    registry = await startRegistry();
    t = await startTestHost({ settings: { REGISTRIES: `http://${registry.host}` } });
  });

  afterAll(async () => {
    await t?.stop();
    await registry?.stop();
  });

  /** The example's target and request host pointed at an image really in the test registry. */
  function retarget<T>(data: T, built: BuiltImage, repository: string): T {
    const d = data as { target: Record<string, unknown>; request: Record<string, unknown> };
    d.target = { ...d.target, mediaType: built.manifest.mediaType, digest: built.manifest.digest, size: built.manifest.size, length: built.manifest.size, repository, tag: "v1" };
    d.request = { ...d.request, host: registry.host };
    return data;
  }

  type Shape = (body: unknown, built: BuiltImage, repository: string) => unknown;
  const cases: [string, string, string, string, Shape][] = [
    ["ACR webhook", "acr-push.json", "application/json", "shapes/acr", (body, b, repo) => retarget(body, b, repo)],
    ["Event Grid", "eventgrid-image-pushed.json", "application/json", "shapes/eventgrid", (body, b, repo) => {
      for (const e of body as { data: unknown }[]) retarget(e.data, b, repo);
      return body;
    }],
    ["CloudEvents", "cloudevents-image-pushed.json", "application/cloudevents+json", "shapes/cloudevents", (body, b, repo) => {
      retarget((body as { data: unknown }).data, b, repo);
      return body;
    }]
  ];

  it.each(cases)("%s", async (name, file, contentType, repository, shape) => {
    const built = buildImage({ layers: [{ [`shape-${name}`]: name }] });
    await pushImage(registry.url, repository, built, { tag: "v1" });
    const path = file.startsWith("acr") ? "api/webhooks/acr" : "api/webhooks/eventgrid";
    const r = await fetch(`${t.host.url}${path}`, {
      method: "POST",
      body: JSON.stringify(shape(example(file), built, repository)),
      headers: { "x-functions-key": t.webhookKey, "content-type": contentType }
    });
    expect(r.status).toBe(200);
    expect(await eventually(async () => (await record(t.host, built.manifest.digest))?.kind === "image", 30_000)).toBe(true);
    expect((await record(t.host, built.manifest.digest))?.locations.map((l) => [l.repository, l.tags])).toEqual([[repository, ["v1"]]]);
  });
});

describe("a scan request that keeps failing", () => {
  let registry: TestRegistry;
  let t: TestHost;

  beforeAll(async () => {
    registry = await startRegistry();
    t = await startTestHost({
      settings: { REGISTRIES: `http://${registry.host}` },
      hostJson: { version: "2.0", extensions: { queues: { maxPollingInterval: "00:00:00.200", visibilityTimeout: "00:00:01", maxDequeueCount: 2 } } }
    });
  });

  afterAll(async () => {
    await t?.stop();
    await registry?.stop();
  });

  it("is poisoned with the reason on its last attempt, and the record says failed with the cause", async () => {
    // Announced, but never pushed: the registry answers 404 for its manifest on every attempt.
    const missing = `sha256:${"9".repeat(64)}` as Digest;
    const r = await fetch(`${t.host.url}api/webhooks/distribution`, {
      method: "POST",
      headers: { "x-functions-key": t.webhookKey, "content-type": "application/vnd.docker.distribution.events.v1+json" },
      body: JSON.stringify({
        events: [
          {
            id: "missing-1",
            timestamp: "2026-11-23T10:00:00.000Z",
            action: "push",
            target: { mediaType: "application/vnd.oci.image.manifest.v1+json", size: 100, digest: missing, repository: "team/ghost", tag: "v1" },
            request: { id: "r-missing", host: registry.host, method: "PUT", useragent: "test/1.0" }
          }
        ]
      })
    });
    expect(r.status).toBe(200);
    expect(await eventually(async () => (await record(t.host, missing))?.scan.state === "failed", 30_000)).toBe(true);
    const failed = await record(t.host, missing);
    expect(failed?.scan.lastError?.code).toBe("REGISTRY.NOT_FOUND");
    expect(failed?.scan.attempts).toBe(2);
    expect(failed?.scan.lease).toBeUndefined();
    // The record says failed just before the poison message is written: wait for the message too.
    const poison = t.host.services.storage.queues.getQueueClient("scan-requests-poison");
    let text = "";
    expect(
      await eventually(async () => {
        if (!(await poison.exists())) return false;
        text = (await poison.peekMessages({ numberOfMessages: 1 })).peekedMessageItems[0]?.messageText ?? "";
        return text !== "";
      }, 30_000)
    ).toBe(true);
    const message = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as { poisoned: { reason: { code: string }; dequeueCount: number }; message: { digest: string } };
    expect(message.poisoned.reason.code).toBe("REGISTRY.NOT_FOUND");
    expect(message.poisoned.dequeueCount).toBe(2);
    expect(message.message.digest).toBe(missing);
  });
});
