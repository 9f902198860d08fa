import { pipeline, type Readable } from "node:stream";
import { z } from "zod";
import { isDigest, type Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";
import type { RegistryConfig } from "../domain/registries.js";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "../events/media-types.js";
import type { Logger } from "../log.js";
import type { BasicCredentialSource } from "./credentials.js";
import type { RegistryLimits } from "./guard.js";
import {
  checkReference,
  checkRepository,
  checkTag,
  type BlobRef,
  type ListOptions,
  type Manifest,
  type ManifestRef,
  type OpenBlobOptions,
  type RequestOptions,
  type TagRef
} from "./port.js";
import type { TokenRequest, TokenSource } from "./tokens.js";
import { readBounded, type RegistryResponse, type RegistryTransport } from "./transport.js";
import type { TtlCache } from "./ttl-cache.js";
import { digestOf, verifyBytes, verifyingStream } from "./verify.js";
import { parseChallenges } from "./www-authenticate.js";

/**
 * The OCI distribution adapter: a small client on the guarded transport
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md) for any registry that
 * speaks the spec — distribution, Harbor, GitLab, Quay, ACR with a user name and password — and
 * for ACR's blobs (./acr.ts says why). `@azure/container-registry` cannot serve these registries:
 * it speaks only ACR's Entra ID exchange (no Basic auth, no distribution token server), builds
 * no plain-HTTP URLs of its own choosing and has no Docker `tags/list`.
 *
 * Auth follows the challenge the registry sends on 401 (`WWW-Authenticate`): Basic with the
 * registry's credential, or Bearer with a token from the realm (./tokens.ts), cached per scope
 * until it expires. Every request sends the full manifest `Accept` list: distribution answers
 * 404 for an OCI manifest when `Accept` lacks the OCI types.
 */

export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(", ");

export interface OciRegistryDeps {
  readonly registry: RegistryConfig;
  readonly transport: RegistryTransport;
  readonly credential: BasicCredentialSource;
  /** Bearer tokens: the distribution token protocol, or ACR's exchange. */
  readonly tokens: TokenSource;
  readonly limits: RegistryLimits;
  readonly tokenCache: TtlCache<string>;
  readonly logger?: Logger;
}

type Auth = { kind: "none" } | { kind: "basic" } | { kind: "bearer"; realm: URL; service: string | undefined };

const catalogPage = z.object({ repositories: z.array(z.string()).nullable().optional() }).loose();
const tagsPage = z.object({ tags: z.array(z.string()).nullable().optional() }).loose();
const distributionErrors = z.object({ errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() }).loose()) }).loose();

export class OciRegistry {
  readonly #deps: OciRegistryDeps;
  readonly #base: URL;
  /** What the registry asked for last time, so later requests authenticate up front. */
  #auth: Auth = { kind: "none" };
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(deps: OciRegistryDeps) {
    this.#deps = deps;
    this.#base = deps.transport.guard.baseUrl(deps.registry);
  }

  get registry(): RegistryConfig {
    return this.#deps.registry;
  }

  async getManifest(ref: ManifestRef, options: RequestOptions = {}): Promise<Manifest> {
    const repository = checkRepository(ref.repository);
    const reference = checkReference(ref.reference);
    const where = `${this.registry.host}/${repository}${reference.kind === "digest" ? "@" : ":"}${ref.reference}`;
    const response = await this.#request(`/v2/${repository}/manifests/${ref.reference}`, `repository:${repository}:pull`, {
      accept: MANIFEST_ACCEPT,
      options
    });
    if (response.status !== 200) throw await this.#failure(response, `manifest ${where}`);
    const bytes = await readBounded(response, this.#deps.limits.manifestMaxBytes, `manifest ${where}`);
    const header = headerValue(response, "docker-content-digest");
    let digest: Digest;
    if (reference.kind === "digest") {
      verifyBytes(bytes, reference.digest, `manifest ${where}`, { host: this.registry.host, repository });
      digest = reference.digest;
    } else {
      digest = digestOf(bytes);
      if (header !== undefined && isDigest(header)) verifyBytes(bytes, header, `manifest ${where} against Docker-Content-Digest`, { host: this.registry.host, repository });
    }
    return { digest, ...parseManifest(bytes, headerValue(response, "content-type"), where) };
  }

  /**
   * The digest a tag points at: `HEAD` and `Docker-Content-Digest` (no body read), or the
   * manifest's own digest when the registry sends no such header.
   */
  async resolveTag(ref: TagRef, options: RequestOptions = {}): Promise<Digest> {
    const repository = checkRepository(ref.repository);
    const tag = checkTag(ref.tag);
    const response = await this.#request(`/v2/${repository}/manifests/${tag}`, `repository:${repository}:pull`, {
      accept: MANIFEST_ACCEPT,
      method: "HEAD",
      options
    });
    response.body.resume();
    if (response.status !== 200) throw await this.#failure(response, `tag ${this.registry.host}/${repository}:${tag}`);
    const header = headerValue(response, "docker-content-digest");
    if (header !== undefined && isDigest(header)) return header;
    return (await this.getManifest({ host: ref.host, repository, reference: tag }, options)).digest;
  }

  async openBlob(ref: BlobRef, options: OpenBlobOptions = {}): Promise<Readable> {
    const repository = checkRepository(ref.repository);
    if (!isDigest(ref.digest)) throw new ScanhookError("REGISTRY.INVALID_REFERENCE", "a blob is named by its digest", { status: 400 });
    const where = `blob ${this.registry.host}/${repository}@${ref.digest}`;
    const response = await this.#request(`/v2/${repository}/blobs/${ref.digest}`, `repository:${repository}:pull`, { options });
    if (response.status !== 200) throw await this.#failure(response, where);
    const declared = Number(headerValue(response, "content-length"));
    const meta = { host: this.registry.host, repository };
    if (Number.isFinite(declared)) {
      if (options.maxBytes !== undefined && declared > options.maxBytes) {
        response.body.destroy();
        throw new ScanhookError("REGISTRY.TOO_LARGE", `${where} is larger than the limit of ${options.maxBytes} bytes`, { meta: { ...meta, declared, limit: options.maxBytes }, status: 502 });
      }
      if (options.expectedSize !== undefined && declared !== options.expectedSize) {
        response.body.destroy();
        throw new ScanhookError("REGISTRY.DIGEST_MISMATCH", `${where} is ${declared} bytes, its descriptor says ${options.expectedSize}`, { meta: { ...meta, declared, expected: options.expectedSize }, status: 502 });
      }
    }
    const verifier = verifyingStream(ref.digest, {
      meta,
      ...(options.expectedSize === undefined ? {} : { expectedSize: options.expectedSize }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes })
    });
    // pipeline() carries a broken connection into the verifier as an error, and a consumer that
    // stops early (destroys the verifier) closes the connection.
    return pipeline(response.body, verifier, () => undefined);
  }

  /** `GET /v2/_catalog`, page by page along `Link: <…>; rel="next"`. */
  async *repositoryPages(options: ListOptions = {}): AsyncIterable<string[]> {
    for await (const json of this.#pages("/v2/_catalog", "registry:catalog:*", options, "repository list")) {
      const page = catalogPage.safeParse(json);
      if (!page.success) throw invalidResponse(`${this.registry.host} sent a repository list of the wrong shape`);
      yield page.data.repositories ?? [];
    }
  }

  async *tagPages(repositoryName: string, options: ListOptions = {}): AsyncIterable<string[]> {
    const repository = checkRepository(repositoryName);
    for await (const json of this.#pages(`/v2/${repository}/tags/list`, `repository:${repository}:pull`, options, "tag list")) {
      const page = tagsPage.safeParse(json);
      if (!page.success) throw invalidResponse(`${this.registry.host} sent a tag list of the wrong shape`);
      yield page.data.tags ?? [];
    }
  }

  async *#pages(path: string, scope: string, options: ListOptions, what: string): AsyncIterable<unknown> {
    let url: URL | undefined = new URL(path, this.#base);
    if (options.pageSize !== undefined) url.searchParams.set("n", String(options.pageSize));
    const seen = new Set<string>();
    while (url !== undefined) {
      seen.add(url.href);
      const response = await this.#request(`${url.pathname}${url.search}`, scope, { accept: "application/json", options });
      if (response.status !== 200) throw await this.#failure(response, `${what} of ${this.registry.host}`);
      const next = nextLink(response, url);
      const bytes = await readBounded(response, this.#deps.limits.listPageMaxBytes, what);
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString("utf8"));
      } catch {
        throw invalidResponse(`${this.registry.host} sent a ${what} that is not JSON`);
      }
      yield json;
      if (next !== undefined && next.origin !== this.#base.origin) throw invalidResponse(`${this.registry.host} pointed its next ${what} page at another host`);
      url = next !== undefined && !seen.has(next.href) ? next : undefined;
    }
  }

  /**
   * One request with whatever auth the registry asked for; on 401 it reads the challenge, gets
   * what it asks for (a token, or the Basic credential) and tries once more.
   */
  async #request(
    path: string,
    scope: string,
    request: { accept?: string; method?: "GET" | "HEAD"; options: RequestOptions }
  ): Promise<RegistryResponse> {
    const url = new URL(path, this.#base);
    const signal = request.options.abortSignal;
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.#authorization(scope);
      const headers: Record<string, string> = {};
      if (request.accept !== undefined) headers.accept = request.accept;
      if (authorization !== undefined) headers.authorization = authorization;
      const response = await this.#deps.transport.send(url, {
        method: request.method ?? "GET",
        purpose: "origin",
        from: this.registry,
        headers,
        ...(signal === undefined ? {} : { abortSignal: signal })
      });
      if (response.status !== 401 || attempt > 0) return response;
      const challenges = parseChallenges(response.headers["www-authenticate"]);
      const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm !== undefined);
      const basic = challenges.find((c) => c.scheme === "basic");
      if (bearer?.params.realm !== undefined) {
        let realm: URL;
        try {
          realm = new URL(bearer.params.realm);
        } catch {
          return response;
        }
        response.body.resume();
        this.#auth = { kind: "bearer", realm, service: bearer.params.service };
        const key = this.#tokenKey(scope);
        const cached = this.#deps.tokenCache.get(key);
        // A token that arrived while this request was out (another request fetched it) is tried
        // before asking the token server again.
        if (cached === undefined || authorization === `Bearer ${cached}`) {
          await this.#fetchToken({ realm, service: bearer.params.service, scope: bearer.params.scope ?? scope }, key, signal);
        }
        continue;
      }
      if (basic !== undefined && this.registry.credential.type !== "none" && this.#auth.kind !== "basic") {
        response.body.resume();
        this.#auth = { kind: "basic" };
        continue;
      }
      return response;
    }
  }

  /**
   * One token request per key at a time: a burst of first requests (a webhook storm) waits for
   * the same answer instead of asking the token server once each.
   */
  async #fetchToken(request: TokenRequest, key: string, signal: RequestOptions["abortSignal"]): Promise<void> {
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#deps.tokens
        .fetchToken(request, signal)
        .then((issued) => this.#deps.tokenCache.set(key, issued.token, issued.ttlInMs))
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    await pending;
  }

  #tokenKey(scope: string): string {
    const auth = this.#auth;
    return auth.kind === "bearer" ? `${this.registry.host} ${auth.realm.href} ${auth.service ?? ""} ${scope}` : "";
  }

  async #authorization(scope: string): Promise<string | undefined> {
    const auth = this.#auth;
    if (auth.kind === "basic") {
      const credential = await this.#deps.credential();
      if (credential === undefined) return undefined;
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
    }
    if (auth.kind === "bearer") {
      const token = this.#deps.tokenCache.get(this.#tokenKey(scope));
      return token === undefined ? undefined : `Bearer ${token}`;
    }
    return undefined;
  }

  /** Turns a non-success answer into a coded error, reading at most a small error body. */
  async #failure(response: RegistryResponse, what: string): Promise<ScanhookError> {
    let code: string | undefined;
    if (response.status >= 400) {
      try {
        const parsed = distributionErrors.safeParse(JSON.parse((await readBounded(response, this.#deps.limits.errorMaxBytes, "error body")).toString("utf8")));
        code = parsed.success ? parsed.data.errors[0]?.code : undefined;
      } catch {
        // an unreadable or oversized error body says nothing more than its status
      }
    }
    response.body.destroy();
    const status = response.status;
    const meta = { host: this.registry.host, status, ...(code === undefined ? {} : { registryCode: code }) };
    const suffix = code === undefined ? `HTTP ${status}` : `HTTP ${status} ${code}`;
    if (status === 404) return new ScanhookError("REGISTRY.NOT_FOUND", `${what} not found (${suffix})`, { meta, status: 404 });
    if (status === 401 || status === 403) return new ScanhookError("REGISTRY.UNAUTHORIZED", `${what}: access denied (${suffix})`, { meta, status: 502 });
    if (status === 429 || status >= 500) return new ScanhookError("REGISTRY.UNREACHABLE", `${what}: registry error (${suffix})`, { meta, status: 503 });
    return new ScanhookError("REGISTRY.INVALID_RESPONSE", `${what}: unexpected answer (${suffix})`, { meta, status: 502 });
  }
}

function headerValue(response: RegistryResponse, name: string): string | undefined {
  const v = response.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function invalidResponse(message: string): ScanhookError {
  return new ScanhookError("REGISTRY.INVALID_RESPONSE", message, { status: 502 });
}

/** RFC 8288 `Link: <url>; rel="next"`, resolved against the page's URL. */
function nextLink(response: RegistryResponse, current: URL): URL | undefined {
  const link = headerValue(response, "link");
  if (link === undefined) return undefined;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(link);
  if (m?.[1] === undefined) return undefined;
  try {
    return new URL(m[1], current);
  } catch {
    return undefined;
  }
}

const GENERIC_TYPES = new Set(["", "application/json", "application/octet-stream", "text/plain"]);

/** JSON and media type of manifest bytes; not JSON (or not an object) is INVALID_RESPONSE. */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string): Omit<Manifest, "digest"> {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalidResponse(`manifest ${where} is not JSON`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalidResponse(`manifest ${where} is not a JSON object`);
  const served = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  const own = "mediaType" in json && typeof json.mediaType === "string" ? json.mediaType : undefined;
  const mediaType = GENERIC_TYPES.has(served) ? (own ?? served) : served;
  return { mediaType, bytes, json };
}
