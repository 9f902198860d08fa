import { readFile, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import type { RegistryConfig } from "../../shared/domain/registries.js";
import { createLogger } from "../../shared/log.js";
import { createRegistryClient } from "../../shared/registry/client.js";
import type { LookupAddress } from "../../shared/registry/guard.js";
import { buildImage, pushImage, type BuiltImage } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { createTestCertificate, type TestCertificate } from "../helpers/tls.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { errorCode, readAll, startRecordingServer, type RecordingServer } from "./support.js";

const plain = (host: string, credential: RegistryConfig["credential"] = { type: "none" }): RegistryConfig => ({ host, kind: "oci", plainHttp: true, credential });

describe("hostile content from a real registry", () => {
  let registry: TestRegistry;
  let image: BuiltImage;
  let big: BuiltImage;

  beforeAll(async () => {
    registry = await startRegistry();
    image = buildImage({ layers: [{ "a.txt": "the real content of this layer\n" }] });
    big = buildImage({ layers: [{ "b.txt": "b\n" }], annotations: { padding: "x".repeat(2000) } });
    await pushImage(registry.url, "app", image, { tag: "v1" });
    await pushImage(registry.url, "app", big, { tag: "big" });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it("a blob whose bytes do not match its digest errors the stream with DIGEST_MISMATCH", async () => {
    const layer = image.layers[0];
    if (layer === undefined) throw new Error("no layer");
    // Tamper with the stored bytes, same length: the registry serves them as they are.
    const path = registry.blobPath(layer.digest);
    const stored = await readFile(path);
    const tampered = Buffer.from(stored);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
    await writeFile(path, tampered);
    const client = createRegistryClient([plain(registry.host)]);
    try {
      const stream = await client.openBlob({ host: registry.host, repository: "app", digest: layer.digest as Digest }, { expectedSize: layer.size });
      expect(await errorCode(() => readAll(stream))).toBe("REGISTRY.DIGEST_MISMATCH");
      // Fewer bytes than the descriptor says is a mismatch too, refused before streaming.
      await writeFile(path, stored.subarray(0, stored.length - 3));
      expect(await errorCode(() => client.openBlob({ host: registry.host, repository: "app", digest: layer.digest as Digest }, { expectedSize: layer.size }))).toBe("REGISTRY.DIGEST_MISMATCH");
      const unsized = await client.openBlob({ host: registry.host, repository: "app", digest: layer.digest as Digest });
      expect(await errorCode(() => readAll(unsized))).toBe("REGISTRY.DIGEST_MISMATCH");
    } finally {
      await writeFile(path, stored);
      client.close();
    }
  });

  it("a manifest over the size limit is TOO_LARGE; under it, fine", async () => {
    const client = createRegistryClient([plain(registry.host)], { limits: { manifestMaxBytes: 1024 } });
    try {
      expect(big.manifest.size).toBeGreaterThan(1024);
      expect(await errorCode(() => client.getManifest({ host: registry.host, repository: "app", reference: "big" }))).toBe("REGISTRY.TOO_LARGE");
      expect((await client.getManifest({ host: registry.host, repository: "app", reference: "v1" })).digest).toBe(image.manifest.digest);
    } finally {
      client.close();
    }
  });

  it("a blob over maxBytes is TOO_LARGE", async () => {
    const client = createRegistryClient([plain(registry.host)]);
    try {
      expect(await errorCode(() => client.openBlob({ host: registry.host, repository: "app", digest: image.config.digest as Digest }, { maxBytes: 10 }))).toBe("REGISTRY.TOO_LARGE");
    } finally {
      client.close();
    }
  });
});

describe("hostile registries on fake servers", () => {
  const image = buildImage({ layers: [{ "c.txt": "served from storage\n" }] });
  const layer = image.layers[0];
  if (layer === undefined) throw new Error("no layer");
  const manifestPath = `/v2/app/manifests/v1`;
  const blobPath = `/v2/app/blobs/${layer.digest}`;
  const SAS = "sig=SAS-SECRET-do-not-log";
  let storage: RecordingServer;
  let unlistedStorage: RecordingServer;
  let hostile: RecordingServer;
  let redirectTo = "";

  beforeAll(async () => {
    const serveBlob = (_req: unknown, res: ServerResponse): void => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(layer.size) }).end(layer.bytes);
    };
    storage = await startRecordingServer(serveBlob);
    unlistedStorage = await startRecordingServer(serveBlob);
    hostile = await startRecordingServer((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="hostile"' }).end();
        return;
      }
      if (req.path === blobPath) {
        res.writeHead(307, { location: `${redirectTo}/storage/${layer.digest}?${SAS}` }).end();
      } else if (req.path === manifestPath) {
        // Bytes that are not what Docker-Content-Digest claims.
        res.writeHead(200, { "content-type": image.manifest.mediaType, "docker-content-digest": image.config.digest }).end(image.manifest.bytes);
      } else if (req.path === `/v2/app/manifests/${image.config.digest}`) {
        res.writeHead(200, { "content-type": image.manifest.mediaType }).end(image.manifest.bytes);
      } else if (req.path.startsWith("/v2/app/manifests/chunked")) {
        // No Content-Length: the limit must hold by counting.
        res.writeHead(200, { "content-type": image.manifest.mediaType });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 32));
        res.end();
      } else if (req.path.startsWith("/v2/_catalog")) {
        res.writeHead(200, { "content-type": "application/json", link: `<http://${unlistedStorage.host}/v2/_catalog?last=a>; rel="next"` }).end(JSON.stringify({ repositories: ["a"] }));
      } else {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "NAME_UNKNOWN" }] }));
      }
    });
  });
  afterAll(async () => {
    await hostile?.stop();
    await storage?.stop();
    await unlistedStorage?.stop();
  });

  const env = { HOSTILE_USER: "scanner", HOSTILE_PASSWORD: "hostile-PASSWORD-91" };
  const credential = { type: "env", usernameVar: "HOSTILE_USER", passwordVar: "HOSTILE_PASSWORD" } as const;

  it("a redirect to another host carries no Authorization, and the blob still verifies", async () => {
    // The storage host is listed, under another name for 127.0.0.1: a different host all the same.
    redirectTo = `http://localhost:${storage.port}`;
    const lines: string[] = [];
    const client = createRegistryClient([plain(hostile.host, credential), plain(`localhost:${storage.port}`)], {
      credentials: { env },
      logger: createLogger("debug", "", (l) => lines.push(l))
    });
    try {
      const bytes = await readAll(await client.openBlob({ host: hostile.host, repository: "app", digest: layer.digest as Digest }));
      expect(bytes.equals(layer.bytes)).toBe(true);
      expect(hostile.requests.some((r) => r.path === blobPath && r.headers.authorization !== undefined)).toBe(true);
      expect(storage.requests).toHaveLength(1);
      expect(storage.requests[0]?.headers.authorization).toBeUndefined();
      expect(storage.requests[0]?.headers["user-agent"]).toMatch(/^scanhook\//);
      // Query strings (a SAS token) are not logged.
      expect(lines.join("\n")).not.toContain("SAS-SECRET");
      expect(lines.some((l) => l.includes(`/storage/${layer.digest}`))).toBe(true);
    } finally {
      client.close();
    }
  });

  it("a redirect to an unlisted loopback host is refused and nothing arrives there", async () => {
    redirectTo = `https://localhost:${unlistedStorage.port}`;
    const client = createRegistryClient([plain(hostile.host, credential)], { credentials: { env } });
    try {
      await expect(client.openBlob({ host: hostile.host, repository: "app", digest: layer.digest as Digest })).rejects.toMatchObject({
        code: "REGISTRY.NOT_ALLOWED",
        message: expect.stringMatching(/non-public address/)
      });
      // Plain HTTP to an unlisted host is refused before any lookup.
      redirectTo = `http://localhost:${unlistedStorage.port}`;
      expect(await errorCode(() => client.openBlob({ host: hostile.host, repository: "app", digest: layer.digest as Digest }))).toBe("REGISTRY.NOT_ALLOWED");
      expect(unlistedStorage.requests).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it("manifest bytes that do not match Docker-Content-Digest, or the digest asked for, are DIGEST_MISMATCH", async () => {
    const client = createRegistryClient([plain(hostile.host, credential)], { credentials: { env } });
    try {
      expect(await errorCode(() => client.getManifest({ host: hostile.host, repository: "app", reference: "v1" }))).toBe("REGISTRY.DIGEST_MISMATCH");
      expect(await errorCode(() => client.getManifest({ host: hostile.host, repository: "app", reference: image.config.digest }))).toBe("REGISTRY.DIGEST_MISMATCH");
    } finally {
      client.close();
    }
  });

  it("a manifest without Content-Length over the limit is TOO_LARGE", async () => {
    const client = createRegistryClient([plain(hostile.host, credential)], { credentials: { env }, limits: { manifestMaxBytes: 4096 } });
    try {
      expect(await errorCode(() => client.getManifest({ host: hostile.host, repository: "app", reference: "chunked" }))).toBe("REGISTRY.TOO_LARGE");
    } finally {
      client.close();
    }
  });

  it("a next-page link to another host is not followed", async () => {
    const client = createRegistryClient([plain(hostile.host, credential)], { credentials: { env } });
    try {
      const seen: string[] = [];
      const code = await errorCode(async () => {
        for await (const r of client.listRepositories(hostile.host)) seen.push(r);
      });
      expect(code).toBe("REGISTRY.INVALID_RESPONSE");
      expect(unlistedStorage.requests).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it("a reference to an unlisted host is NOT_ALLOWED and sends nothing; a path-like repository is INVALID_REFERENCE", async () => {
    const client = createRegistryClient([plain(hostile.host, credential)], { credentials: { env } });
    try {
      const before = unlistedStorage.requests.length;
      expect(await errorCode(() => client.getManifest({ host: unlistedStorage.host, repository: "app", reference: "v1" }))).toBe("REGISTRY.NOT_ALLOWED");
      expect(await errorCode(() => client.openBlob({ host: unlistedStorage.host, repository: "app", digest: layer.digest as Digest }))).toBe("REGISTRY.NOT_ALLOWED");
      expect(await errorCode(() => client.resolveTag({ host: unlistedStorage.host, repository: "app", tag: "v1" }))).toBe("REGISTRY.NOT_ALLOWED");
      expect(await errorCode(async () => {
        for await (const _ of client.listTags({ host: unlistedStorage.host, repository: "app" })) break;
      })).toBe("REGISTRY.NOT_ALLOWED");
      expect(unlistedStorage.requests.length).toBe(before);
      expect(await errorCode(() => client.getManifest({ host: hostile.host, repository: "../../v2/_catalog", reference: "v1" }))).toBe("REGISTRY.INVALID_REFERENCE");
      expect(await errorCode(() => client.getManifest({ host: hostile.host, repository: "app", reference: "v1?x=1" }))).toBe("REGISTRY.INVALID_REFERENCE");
    } finally {
      client.close();
    }
  });
});

describe("token realms a registry names", () => {
  const REALM_NAME = "tokens.example.test";
  let cert: TestCertificate;
  let tokens: TokenServer;
  let registry: TestRegistry;
  const image = buildImage({ layers: [{ "d.txt": "realm\n" }] });
  const env = { U: "puller", P: "realm-PASSWORD-5a" };
  const credential = { type: "env", usernameVar: "U", passwordVar: "P" } as const;
  // The realm's name resolves to 127.0.0.1 here, as a rebinding attacker's name would.
  const resolve = (hostname: string): Promise<LookupAddress[]> =>
    hostname === REALM_NAME ? Promise.resolve([{ address: "127.0.0.1", family: 4 }]) : Promise.reject(new Error(`unexpected lookup of ${hostname}`));

  beforeAll(async () => {
    cert = await createTestCertificate(REALM_NAME, [`DNS:${REALM_NAME}`]);
    tokens = await startTokenServer({ users: { puller: env.P }, tls: cert, realmHost: REALM_NAME });
    registry = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.signingCertPath } });
    await pushImage(registry.url, "app", image, { tag: "v1", headers: { authorization: `Bearer ${tokens.issue("pusher", ["repository:app:push,pull"])}` } });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
    await cert?.remove();
  });

  it("a realm on an unlisted host that resolves to 127.0.0.1 gets no request at all", async () => {
    tokens.requests.length = 0;
    const client = createRegistryClient([plain(registry.host, credential)], { credentials: { env }, resolve, ca: [cert.certPem] });
    try {
      await expect(client.getManifest({ host: registry.host, repository: "app", reference: "v1" })).rejects.toMatchObject({
        code: "REGISTRY.NOT_ALLOWED",
        message: expect.stringMatching(/tokens\.example\.test resolves to a non-public address \(127\.0\.0\.1\)/)
      });
      expect(tokens.requests).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it("a realm on an unlisted (public) host gets an anonymous request: the credential stays home", async () => {
    tokens.requests.length = 0;
    // Stand-in for a public address: the guard is told 127.0.0.1 is public, so the request is made.
    const client = createRegistryClient([plain(registry.host, credential)], { credentials: { env }, resolve, ca: [cert.certPem], isNonPublicAddress: () => false });
    try {
      expect(await errorCode(() => client.getManifest({ host: registry.host, repository: "app", reference: "v1" }))).toBe("REGISTRY.UNAUTHORIZED");
      expect(tokens.requests.length).toBeGreaterThan(0);
      expect(tokens.requests.every((r) => !r.withCredential)).toBe(true);
    } finally {
      client.close();
    }
  });

  it("the same realm, once listed, gets the credential and the pull works", async () => {
    tokens.requests.length = 0;
    const registries = [plain(registry.host, credential), { host: `${REALM_NAME}:${tokens.port}`, kind: "oci", plainHttp: false, credential: { type: "none" } } as const];
    const client = createRegistryClient(registries, { credentials: { env }, resolve: (h) => (h === REALM_NAME ? resolve(h) : Promise.reject(new Error(h))), ca: [cert.certPem] });
    try {
      expect((await client.getManifest({ host: registry.host, repository: "app", reference: "v1" })).digest).toBe(image.manifest.digest);
      expect(tokens.requests.map((r) => r.withCredential)).toEqual([true]);
    } finally {
      client.close();
    }
  });
});
