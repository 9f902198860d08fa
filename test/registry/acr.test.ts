import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import type { RegistryConfig } from "../../shared/domain/registries.js";
import { createLogger } from "../../shared/log.js";
import { createRegistryClient } from "../../shared/registry/client.js";
import type { RegistryClient } from "../../shared/registry/port.js";
import { startAcrFront, type AcrFront } from "../helpers/acr-front.js";
import { buildImage, buildIndex, pushImage, pushIndex, type BuiltImage } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { errorCode, readAll } from "./support.js";

const ENTRA_TOKEN = "entra-TOKEN-for-tests-3b7c";

describe("ACR adapter (@azure/container-registry) against a TLS front to docker-registry", () => {
  let registry: TestRegistry;
  let front: AcrFront;
  let client: RegistryClient;
  let image: BuiltImage;
  const scopesAsked: string[] = [];
  const lines: string[] = [];
  const credential: TokenCredential = {
    getToken(scopes): Promise<AccessToken> {
      scopesAsked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
      return Promise.resolve({ token: ENTRA_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 });
    }
  };

  beforeAll(async () => {
    registry = await startRegistry();
    front = await startAcrFront({ upstream: registry.url, entraToken: ENTRA_TOKEN });
    image = buildImage({ layers: [{ "etc/os-release": "ID=acr\n" }, { "app/main": "#!/bin/true\n" }] });
    await pushImage(registry.url, "team/web", image, { tag: "v1" });
    for (const tag of ["v2", "v3", "v4", "v5"]) await pushImage(registry.url, "team/web", image, { tag });
    const arm = buildImage({ layers: [{ "arm": "arm\n" }], platform: { os: "linux", architecture: "arm64" } });
    await pushIndex(registry.url, "multi", buildIndex([image, arm]), { tag: "latest" });
    for (const name of ["r1", "r2", "r3"]) await pushImage(registry.url, `more/${name}`, image, { tag: "t" });
    const registries: RegistryConfig[] = [{ host: front.host, kind: "acr", plainHttp: false, credential: { type: "managed-identity" } }];
    client = createRegistryClient(registries, {
      ca: [front.ca],
      tokenCredentialFor: () => credential,
      logger: createLogger("debug", "", (l) => lines.push(l))
    });
  });

  afterAll(async () => {
    client?.close();
    await front?.stop();
    await registry?.stop();
  });

  it("gets a manifest by tag and by digest through ContainerRegistryContentClient and ACR's token exchange", async () => {
    const m = await client.getManifest({ host: front.host, repository: "team/web", reference: "v1" });
    expect(m.digest).toBe(image.manifest.digest);
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.bytes.equals(image.manifest.bytes)).toBe(true);
    const byDigest = await client.getManifest({ host: front.host, repository: "team/web", reference: image.manifest.digest });
    expect(byDigest.digest).toBe(image.manifest.digest);
    const index = await client.getManifest({ host: front.host, repository: "multi", reference: "latest" });
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(front.counts.exchange).toBeGreaterThan(0);
    expect(scopesAsked.every((s) => s === "https://containerregistry.azure.net/.default")).toBe(true);
  });

  it("streams a verified blob (scanhook's client, ACR's exchange)", async () => {
    const layer = image.layers[1];
    if (layer === undefined) throw new Error("no layer");
    const bytes = await readAll(await client.openBlob({ host: front.host, repository: "team/web", digest: layer.digest as Digest }, { expectedSize: layer.size }));
    expect(bytes.equals(layer.bytes)).toBe(true);
  });

  it("lists repositories (/acr/v1/_catalog) and tags (/acr/v1/{name}/_tags) page by page", async () => {
    const pages: string[][] = [];
    for await (const page of client.listRepositories(front.host, { pageSize: 2 }).byPage()) pages.push(page);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat().sort()).toEqual(["more/r1", "more/r2", "more/r3", "multi", "team/web"]);
    const tagPages: string[][] = [];
    for await (const page of client.listTags({ host: front.host, repository: "team/web" }, { pageSize: 2 }).byPage()) tagPages.push(page);
    expect(tagPages.length).toBeGreaterThan(1);
    expect(tagPages.flat().sort()).toEqual(["v1", "v2", "v3", "v4", "v5"]);
    expect(front.requests.some((r) => r.path === "/acr/v1/_catalog")).toBe(true);
    expect(front.requests.some((r) => r.path === "/acr/v1/team/web/_tags")).toBe(true);
  });

  it("resolves a tag (/acr/v1/{name}/_tags/{tag}) and caches it", async () => {
    const before = front.requests.filter((r) => r.path === "/acr/v1/team/web/_tags/v2").length;
    expect(await client.resolveTag({ host: front.host, repository: "team/web", tag: "v2" })).toBe(image.manifest.digest);
    expect(await client.resolveTag({ host: front.host, repository: "team/web", tag: "v2" })).toBe(image.manifest.digest);
    const after = front.requests.filter((r) => r.path === "/acr/v1/team/web/_tags/v2" && r.authorized).length;
    expect(after - before).toBe(1);
    expect(await errorCode(() => client.resolveTag({ host: front.host, repository: "team/web", tag: "gone" }))).toBe("REGISTRY.NOT_FOUND");
    expect(await errorCode(() => client.getManifest({ host: front.host, repository: "team/web", reference: "gone" }))).toBe("REGISTRY.NOT_FOUND");
  });

  it("a tampered blob errors with DIGEST_MISMATCH instead of crashing the process", async () => {
    const layer = image.layers[0];
    if (layer === undefined) throw new Error("no layer");
    const path = registry.blobPath(layer.digest);
    const stored = await readFile(path);
    const tampered = Buffer.from(stored);
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    await writeFile(path, tampered);
    try {
      const stream = await client.openBlob({ host: front.host, repository: "team/web", digest: layer.digest as Digest });
      expect(await errorCode(() => readAll(stream))).toBe("REGISTRY.DIGEST_MISMATCH");
    } finally {
      await writeFile(path, stored);
    }
  });

  it("every request carries scanhook's user agent first, and no token is logged", () => {
    expect(front.requests.length).toBeGreaterThan(5);
    expect(front.requests.every((r) => r.userAgent?.startsWith("scanhook/") === true)).toBe(true);
    const log = lines.join("\n");
    expect(log).not.toContain(ENTRA_TOKEN);
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it("a manifest over the size limit is TOO_LARGE through the SDK too", async () => {
    const small = createRegistryClient([{ host: front.host, kind: "acr", plainHttp: false, credential: { type: "managed-identity" } }], {
      ca: [front.ca],
      tokenCredentialFor: () => credential,
      limits: { manifestMaxBytes: 100 }
    });
    try {
      expect(await errorCode(() => small.getManifest({ host: front.host, repository: "team/web", reference: "v1" }))).toBe("REGISTRY.TOO_LARGE");
    } finally {
      small.close();
    }
  });
});
