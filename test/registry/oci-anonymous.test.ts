import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryConfig } from "../../shared/domain/registries.js";
import { createRegistryClient } from "../../shared/registry/client.js";
import type { RegistryClient } from "../../shared/registry/port.js";
import { USER_AGENT } from "../../shared/version.js";
import { buildImage, buildIndex, pushImage, pushIndex, pushManifest, type BuiltImage } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { errorCode, eventually, readAll, startRecordingServer, type RecordingServer } from "./support.js";

describe("OCI adapter against docker-registry, anonymous", () => {
  let registry: TestRegistry;
  let receiver: RecordingServer;
  let client: RegistryClient;
  let image: BuiltImage;
  let dockerImage: BuiltImage;

  beforeAll(async () => {
    receiver = await startRecordingServer((_req, res) => res.writeHead(200).end());
    registry = await startRegistry({ notifications: { url: `${receiver.url}/events` } });
    image = buildImage({ layers: [{ "etc/": "", "etc/os-release": "ID=scanhook\n" }, { "hello.txt": "hello\n" }] });
    dockerImage = buildImage({ layers: [{ "a.txt": "docker\n" }], format: "docker" });
    await pushImage(registry.url, "team/app", image, { tag: "v1" });
    await pushImage(registry.url, "team/app", dockerImage, { tag: "docker" });
    for (const name of ["a", "b", "c", "d", "e"]) await pushImage(registry.url, `many/${name}`, image, { tag: "t" });
    await pushImage(registry.url, "tags", image, { tag: "t0" });
    for (let i = 1; i < 7; i++) await pushManifest(registry.url, "tags", image.manifest, { tag: `t${i}` });
    const configs: RegistryConfig[] = [{ host: registry.host, kind: "oci", plainHttp: true, credential: { type: "none" } }];
    client = createRegistryClient(configs);
  });

  afterAll(async () => {
    client?.close();
    await registry?.stop();
    await receiver?.stop();
  });

  it("gets an OCI manifest by tag, with its digest, media type, bytes and JSON", async () => {
    const m = await client.getManifest({ host: registry.host, repository: "team/app", reference: "v1" });
    expect(m.digest).toBe(image.manifest.digest);
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.bytes.equals(image.manifest.bytes)).toBe(true);
    expect(m.json).toEqual(JSON.parse(image.manifest.bytes.toString("utf8")));
  });

  it("gets a manifest by digest and a Docker v2 manifest", async () => {
    const byDigest = await client.getManifest({ host: registry.host, repository: "team/app", reference: image.manifest.digest });
    expect(byDigest.digest).toBe(image.manifest.digest);
    const docker = await client.getManifest({ host: registry.host, repository: "team/app", reference: "docker" });
    expect(docker.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(docker.digest).toBe(dockerImage.manifest.digest);
  });

  it("gets an index and its children", async () => {
    const arm = buildImage({ layers: [{ "arm.txt": "arm\n" }], platform: { os: "linux", architecture: "arm64" } });
    const built = buildIndex([image, arm]);
    await pushIndex(registry.url, "multi", built, { tag: "latest" });
    const m = await client.getManifest({ host: registry.host, repository: "multi", reference: "latest" });
    expect(m.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(m.digest).toBe(built.index.digest);
    const child = await client.getManifest({ host: registry.host, repository: "multi", reference: arm.manifest.digest });
    expect(child.digest).toBe(arm.manifest.digest);
  });

  it("streams a blob verified against its digest", async () => {
    const layer = image.layers[0];
    if (layer === undefined) throw new Error("no layer");
    const stream = await client.openBlob({ host: registry.host, repository: "team/app", digest: layer.digest as never }, { expectedSize: layer.size });
    expect((await readAll(stream)).equals(layer.bytes)).toBe(true);
    const config = await client.openBlob({ host: registry.host, repository: "team/app", digest: image.config.digest as never });
    expect(JSON.parse(await text(config))).toMatchObject({ rootfs: { diff_ids: image.diffIds } });
  });

  it("lists repositories and tags page by page", async () => {
    const pages: string[][] = [];
    for await (const page of client.listRepositories(registry.host, { pageSize: 2 }).byPage()) pages.push(page);
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    expect(pages.flat()).toEqual(expect.arrayContaining(["team/app", "many/a", "many/e", "tags"]));
    const tags: string[] = [];
    for await (const tag of client.listTags({ host: registry.host, repository: "tags" }, { pageSize: 3 })) tags.push(tag);
    expect(tags.sort()).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
  });

  it("resolves a tag, caches it briefly, and a missing tag is NOT_FOUND", async () => {
    expect(await client.resolveTag({ host: registry.host, repository: "team/app", tag: "v1" })).toBe(image.manifest.digest);
    expect(await errorCode(() => client.resolveTag({ host: registry.host, repository: "team/app", tag: "nope" }))).toBe("REGISTRY.NOT_FOUND");
    expect(await errorCode(() => client.getManifest({ host: registry.host, repository: "team/app", reference: "nope" }))).toBe("REGISTRY.NOT_FOUND");
  });

  it("sends scanhook's user agent on every request (the registry's own pull events say so)", async () => {
    await client.getManifest({ host: registry.host, repository: "team/app", reference: "v1" });
    const pulls = (): Array<{ action: string; request: { useragent: string } }> =>
      receiver.requests.flatMap((r) => (JSON.parse(r.body) as { events: Array<{ action: string; request: { useragent: string } }> }).events).filter((e) => e.action === "pull");
    await eventually(() => pulls().length > 0);
    expect(pulls().every((e) => e.request.useragent === USER_AGENT)).toBe(true);
  });
});

describe("OCI adapter: tag cache, concurrency and aborts", () => {
  let registry: TestRegistry;
  let tokens: TokenServer;
  let now = 0;

  beforeAll(async () => {
    tokens = await startTokenServer({ anonymousPull: true });
    registry = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.signingCertPath } });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  const push = (image: BuiltImage, tag: string): Promise<void> =>
    pushImage(registry.url, "moving", image, { tag, headers: { authorization: `Bearer ${tokens.issue("pusher", ["repository:moving:push,pull"])}` } });
  const registries = (): RegistryConfig[] => [
    { host: registry.host, kind: "oci", plainHttp: true, credential: { type: "none" } },
    { host: tokens.host, kind: "oci", plainHttp: true, credential: { type: "none" } }
  ];

  it("a resolved tag is reused for the TTL, then asked again (a tag moves)", async () => {
    const first = buildImage({ layers: [{ "v": "1\n" }] });
    const second = buildImage({ layers: [{ "v": "2\n" }] });
    await push(first, "latest");
    const client = createRegistryClient(registries(), { now: () => now, tagCacheTtlInMs: 30_000 });
    try {
      expect(await client.resolveTag({ host: registry.host, repository: "moving", tag: "latest" })).toBe(first.manifest.digest);
      await push(second, "latest");
      now += 29_999;
      expect(await client.resolveTag({ host: registry.host, repository: "moving", tag: "latest" })).toBe(first.manifest.digest);
      expect(await client.resolveTag({ host: registry.host, repository: "moving", tag: "latest" }, { fresh: true })).toBe(second.manifest.digest);
      await push(first, "latest");
      now += 30_000;
      expect(await client.resolveTag({ host: registry.host, repository: "moving", tag: "latest" })).toBe(first.manifest.digest);
    } finally {
      client.close();
    }
  });

  it("a burst of first requests shares one token request", async () => {
    const image = buildImage({ layers: [{ "burst": "b\n" }] });
    await push(image, "burst");
    const client = createRegistryClient(registries());
    try {
      tokens.requests.length = 0;
      const all = await Promise.all(Array.from({ length: 20 }, () => client.getManifest({ host: registry.host, repository: "moving", reference: "burst" })));
      expect(new Set(all.map((m) => m.digest))).toEqual(new Set([image.manifest.digest]));
      expect(tokens.requests).toHaveLength(1);
      expect(tokens.requests[0]?.withCredential).toBe(false);
    } finally {
      client.close();
    }
  });

  it("an aborted request fails with REGISTRY.ABORTED", async () => {
    const client = createRegistryClient(registries());
    try {
      const controller = new AbortController();
      controller.abort();
      expect(await errorCode(() => client.getManifest({ host: registry.host, repository: "moving", reference: "burst" }, { abortSignal: controller.signal }))).toBe("REGISTRY.ABORTED");
    } finally {
      client.close();
    }
  });
});
