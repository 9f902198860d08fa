import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { ScanhookError } from "../../shared/domain/errors.js";
import type { RegistryConfig, RegistryCredential } from "../../shared/domain/registries.js";
import { createLogger } from "../../shared/log.js";
import { createRegistryClient, type RegistryClientOptions } from "../../shared/registry/client.js";
import type { RegistryClient } from "../../shared/registry/port.js";
import { buildImage, pushImage, type BuiltImage } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { errorCode, readAll } from "./support.js";

// Every line any client logs and every error any client throws in this file, checked at the end
// for the secrets used here: none may appear.
const logLines: string[] = [];
const errors: string[] = [];
const logger = createLogger("debug", "registry", (line) => logLines.push(line));
const BASIC_PASSWORD = "basic-PASSWORD-4c1e9";
const TOKEN_PASSWORD = "token-PASSWORD-77ab2";
const HELPER_PASSWORD = "helper-PASSWORD-0f3d";

const clients: RegistryClient[] = [];
function clientFor(registries: RegistryConfig[], options: RegistryClientOptions = {}): RegistryClient {
  const client = createRegistryClient(registries, { logger, ...options });
  clients.push(client);
  return client;
}

async function code(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof ScanhookError) errors.push(`${e.message} ${JSON.stringify(e.meta)}`);
    return errorCode(() => Promise.reject(e));
  }
  return "no error";
}

const image: BuiltImage = buildImage({ layers: [{ "etc/os-release": "ID=auth\n" }] });
const layer = image.layers[0];
if (layer === undefined) throw new Error("no layer");

describe("OCI adapter: htpasswd Basic auth", () => {
  let registry: TestRegistry;
  let dir: string;
  const env = { SCANHOOK_TEST_USER: "scanner", SCANHOOK_TEST_PASSWORD: BASIC_PASSWORD };
  const basic = `Basic ${Buffer.from(`scanner:${BASIC_PASSWORD}`).toString("base64")}`;
  const entry = (credential: RegistryCredential): RegistryConfig[] => [{ host: registry.host, kind: "oci", plainHttp: true, credential }];

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { scanner: BASIC_PASSWORD } });
    await pushImage(registry.url, "private/app", image, { tag: "v1", headers: { authorization: basic } });
    dir = await mkdtemp(join(tmpdir(), "scanhook-docker-config-"));
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("reads with user name and password from the environment", async () => {
    const client = clientFor(entry({ type: "env", usernameVar: "SCANHOOK_TEST_USER", passwordVar: "SCANHOOK_TEST_PASSWORD" }), { credentials: { env } });
    const m = await client.getManifest({ host: registry.host, repository: "private/app", reference: "v1" });
    expect(m.digest).toBe(image.manifest.digest);
    const blob = await readAll(await client.openBlob({ host: registry.host, repository: "private/app", digest: layer.digest as Digest }));
    expect(blob.equals(layer.bytes)).toBe(true);
    const repositories: string[] = [];
    for await (const r of client.listRepositories(registry.host)) repositories.push(r);
    expect(repositories).toEqual(["private/app"]);
  });

  it("reads with an `auths` entry of a Docker config file", async () => {
    const path = join(dir, "auths.json");
    await writeFile(path, JSON.stringify({ auths: { [`http://${registry.host}`]: { auth: Buffer.from(`scanner:${BASIC_PASSWORD}`).toString("base64") } } }));
    const client = clientFor(entry({ type: "docker-config", path }));
    expect((await client.getManifest({ host: registry.host, repository: "private/app", reference: "v1" })).digest).toBe(image.manifest.digest);
  });

  it("reads with a Docker credential helper named in `credHelpers`", async () => {
    const bin = join(dir, "bin");
    await mkdir(bin, { recursive: true });
    const helper = join(bin, "docker-credential-scanhooktest");
    // The helper reads the server name on stdin and answers for that server only.
    await writeFile(
      helper,
      `#!/bin/sh\nread server\nif [ "$server" = "${registry.host}" ]; then printf '{"ServerURL":"%s","Username":"scanner","Secret":"%s"}' "$server" "${BASIC_PASSWORD}"; else echo "credentials not found in native keychain"; exit 1; fi\n`
    );
    await chmod(helper, 0o755);
    const path = join(dir, "helpers.json");
    await writeFile(path, JSON.stringify({ auths: {}, credHelpers: { [registry.host]: "scanhooktest" } }));
    const client = clientFor(entry({ type: "docker-config", path }), { credentials: { env: { PATH: `${bin}:${process.env.PATH ?? ""}` } } });
    expect((await client.getManifest({ host: registry.host, repository: "private/app", reference: "v1" })).digest).toBe(image.manifest.digest);
  });

  it("is UNAUTHORIZED without a credential or with a wrong one, and says which variables are missing", async () => {
    const anonymous = clientFor(entry({ type: "none" }));
    expect(await code(() => anonymous.getManifest({ host: registry.host, repository: "private/app", reference: "v1" }))).toBe("REGISTRY.UNAUTHORIZED");
    const wrong = clientFor(entry({ type: "env", usernameVar: "U", passwordVar: "P" }), { credentials: { env: { U: "scanner", P: HELPER_PASSWORD } } });
    expect(await code(() => wrong.getManifest({ host: registry.host, repository: "private/app", reference: "v1" }))).toBe("REGISTRY.UNAUTHORIZED");
    const unset = clientFor(entry({ type: "env", usernameVar: "NOT_SET_U", passwordVar: "NOT_SET_P" }), { credentials: { env: {} } });
    await expect(unset.getManifest({ host: registry.host, repository: "private/app", reference: "v1" })).rejects.toThrow(/NOT_SET_U and NOT_SET_P/);
  });
});

describe("OCI adapter: bearer tokens from a token server", () => {
  let tokens: TokenServer;
  let registry: TestRegistry;
  let now = Date.now();
  const entries = (credential: RegistryCredential): RegistryConfig[] => [
    { host: registry.host, kind: "oci", plainHttp: true, credential },
    // The realm's host is listed, so the registry's credential may go there.
    { host: tokens.host, kind: "oci", plainHttp: true, credential: { type: "none" } }
  ];
  const env = { PULL_USER: "puller", PULL_PASSWORD: TOKEN_PASSWORD };

  beforeAll(async () => {
    tokens = await startTokenServer({ users: { puller: TOKEN_PASSWORD }, expiresInSeconds: 120, service: "scanhook-test-registry" });
    registry = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.signingCertPath } });
    const push = tokens.issue("pusher", ["repository:team/app:push,pull"]);
    await pushImage(registry.url, "team/app", image, { tag: "v1", headers: { authorization: `Bearer ${push}` } });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  it("answers the challenge with a token for the scope, sent with the credential, reused until it expires", async () => {
    const client = clientFor(entries({ type: "env", usernameVar: "PULL_USER", passwordVar: "PULL_PASSWORD" }), { credentials: { env }, now: () => now });
    tokens.requests.length = 0;
    const m = await client.getManifest({ host: registry.host, repository: "team/app", reference: "v1" });
    expect(m.digest).toBe(image.manifest.digest);
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]).toMatchObject({ withCredential: true, username: "puller", service: "scanhook-test-registry", scopes: ["repository:team/app:pull"] });
    expect(tokens.requests[0]?.userAgent).toMatch(/^scanhook\//);

    const blob = await readAll(await client.openBlob({ host: registry.host, repository: "team/app", digest: layer.digest as Digest }));
    expect(blob.equals(layer.bytes)).toBe(true);
    await client.resolveTag({ host: registry.host, repository: "team/app", tag: "v1" }, { fresh: true });
    expect(tokens.requests).toHaveLength(1);

    // Past `expires_in` (120 s, less a margin) the token is not reused.
    now += 121_000;
    await client.getManifest({ host: registry.host, repository: "team/app", reference: image.manifest.digest });
    expect(tokens.requests).toHaveLength(2);
  });

  it("asks for the catalog scope to list repositories", async () => {
    const client = clientFor(entries({ type: "env", usernameVar: "PULL_USER", passwordVar: "PULL_PASSWORD" }), { credentials: { env } });
    tokens.requests.length = 0;
    const names: string[] = [];
    for await (const r of client.listRepositories(registry.host)) names.push(r);
    expect(names).toEqual(["team/app"]);
    expect(tokens.requests.map((r) => r.scopes)).toEqual([["registry:catalog:*"]]);
    const tags: string[] = [];
    for await (const t of client.listTags({ host: registry.host, repository: "team/app" })) tags.push(t);
    expect(tags).toEqual(["v1"]);
  });

  it("is UNAUTHORIZED anonymously and with a wrong password", async () => {
    const anonymous = clientFor(entries({ type: "none" }));
    expect(await code(() => anonymous.getManifest({ host: registry.host, repository: "team/app", reference: "v1" }))).toBe("REGISTRY.UNAUTHORIZED");
    const wrong = clientFor(entries({ type: "env", usernameVar: "U", passwordVar: "P" }), { credentials: { env: { U: "puller", P: BASIC_PASSWORD } } });
    expect(await code(() => wrong.getManifest({ host: registry.host, repository: "team/app", reference: "v1" }))).toBe("REGISTRY.UNAUTHORIZED");
  });
});

describe("credentials are never logged", () => {
  afterAll(() => {
    for (const c of clients) c.close();
  });

  it("no log line or error of this file holds a password, a Basic value or a token", () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.some((l) => l.includes("token for repository:team/app:pull"))).toBe(true);
    const everything = [...logLines, ...errors].join("\n");
    for (const secret of [BASIC_PASSWORD, TOKEN_PASSWORD, HELPER_PASSWORD]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(Buffer.from(`scanner:${secret}`).toString("base64"));
      expect(everything).not.toContain(Buffer.from(`puller:${secret}`).toString("base64"));
    }
    // Every token the test server issues is a JWT, and every JWT starts with `eyJ`.
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(everything).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}|Bearer [A-Za-z0-9._-]{8,}/);
  });
});
