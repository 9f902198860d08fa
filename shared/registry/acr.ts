import type { Readable } from "node:stream";
import type { TokenCredential } from "@azure/core-auth";
import { ContainerRegistryClient, ContainerRegistryContentClient, type ContainerRegistryClientOptions } from "@azure/container-registry";
import { isRestError } from "@azure/core-rest-pipeline";
import { isDigest, type Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";
import type { RegistryConfig } from "../domain/registries.js";
import type { Logger } from "../log.js";
import type { RegistryLimits } from "./guard.js";
import { OciRegistry, parseManifest } from "./oci.js";
import { checkReference, checkRepository, checkTag, type BlobRef, type ListOptions, type Manifest, type ManifestRef, type OpenBlobOptions, type RequestOptions, type TagRef } from "./port.js";
import { createGuardedHttpClient } from "./sdk-http-client.js";
import { acrExchangeTokenSource } from "./tokens.js";
import type { RegistryTransport } from "./transport.js";
import type { TtlCache } from "./ttl-cache.js";
import { verifyBytes } from "./verify.js";

/**
 * The ACR adapter, for registries reached with an Entra ID identity (managed identity in Azure,
 * any `@azure/identity` credential locally).
 *
 * - Manifests, tags and repositories go through `@azure/container-registry`
 *   (`ContainerRegistryContentClient.getManifest`, `ContainerRegistryClient.listRepositoryNames`,
 *   `RegistryArtifact.listTagProperties` / `getTagProperties`), which performs ACR's token
 *   exchange itself. Its HTTP client is scanhook's guarded transport (./sdk-http-client.ts).
 * - Blobs do NOT use `ContainerRegistryContentClient.downloadBlob`: in 1.1.2 it checks the digest
 *   in an `end` listener of the response stream and throws there, which is an uncaught exception
 *   that ends the process instead of an error on the stream (and it hashes sha256 only and
 *   needs a `Content-Length`). Blobs go through the OCI client instead, with ACR's exchange as
 *   its token source (./tokens.ts), so a mismatch errors the stream with
 *   `REGISTRY.DIGEST_MISMATCH` like every other registry.
 */
export interface AcrRegistryDeps {
  readonly registry: RegistryConfig;
  readonly transport: RegistryTransport;
  readonly credential: TokenCredential;
  readonly limits: RegistryLimits;
  readonly tokenCache: TtlCache<string>;
  /** Entra ID audience for the exchange; defaults to the public cloud's. */
  readonly audience?: string;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** Content clients are per repository in the SDK; keep a bounded few (each holds its ACR token). */
const MAX_CONTENT_CLIENTS = 256;
// listTagProperties lists every tag of the repository (`GET /acr/v1/{name}/_tags`) whatever
// artifact it is called on; the SDK needs some artifact to hang it on.
const ANY_ARTIFACT = `sha256:${"0".repeat(64)}`;

export class AcrRegistry {
  readonly #deps: AcrRegistryDeps;
  readonly #endpoint: string;
  readonly #options: ContainerRegistryClientOptions;
  readonly #content = new Map<string, ContainerRegistryContentClient>();
  readonly #blobs: OciRegistry;
  #registryClient: ContainerRegistryClient | undefined;

  constructor(deps: AcrRegistryDeps) {
    this.#deps = deps;
    this.#endpoint = deps.transport.guard.baseUrl(deps.registry).origin;
    this.#options = {
      httpClient: createGuardedHttpClient(deps.transport, deps.registry, deps.limits),
      userAgentOptions: { userAgentPrefix: "" },
      retryOptions: { maxRetries: 2 },
      ...(deps.audience === undefined ? {} : { audience: deps.audience })
    };
    this.#blobs = new OciRegistry({
      registry: deps.registry,
      transport: deps.transport,
      credential: () => Promise.resolve(undefined),
      tokens: acrExchangeTokenSource({
        registry: deps.registry,
        transport: deps.transport,
        credential: deps.credential,
        limits: deps.limits,
        ...(deps.audience === undefined ? {} : { audience: deps.audience.replace(/\/$/, "") }),
        ...(deps.now === undefined ? {} : { now: deps.now }),
        ...(deps.logger === undefined ? {} : { logger: deps.logger })
      }),
      limits: deps.limits,
      tokenCache: deps.tokenCache,
      ...(deps.logger === undefined ? {} : { logger: deps.logger })
    });
  }

  get registry(): RegistryConfig {
    return this.#deps.registry;
  }

  #contentClient(repository: string): ContainerRegistryContentClient {
    let client = this.#content.get(repository);
    if (client === undefined) {
      client = new ContainerRegistryContentClient(this.#endpoint, repository, this.#deps.credential, this.#options);
      if (this.#content.size >= MAX_CONTENT_CLIENTS) {
        const oldest = this.#content.keys().next();
        if (oldest.done !== true) this.#content.delete(oldest.value);
      }
      this.#content.set(repository, client);
    }
    return client;
  }

  #client(): ContainerRegistryClient {
    this.#registryClient ??= new ContainerRegistryClient(this.#endpoint, this.#deps.credential, this.#options);
    return this.#registryClient;
  }

  async getManifest(ref: ManifestRef, options: RequestOptions = {}): Promise<Manifest> {
    const repository = checkRepository(ref.repository);
    const reference = checkReference(ref.reference);
    const where = `${this.registry.host}/${repository}${reference.kind === "digest" ? "@" : ":"}${ref.reference}`;
    const result = await sdkCall(`manifest ${where}`, this.registry, () =>
      this.#contentClient(repository).getManifest(ref.reference, options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal })
    );
    if (result.content.length > this.#deps.limits.manifestMaxBytes) {
      throw new ScanhookError("REGISTRY.TOO_LARGE", `manifest ${where} is larger than the limit of ${this.#deps.limits.manifestMaxBytes} bytes`, {
        meta: { host: this.registry.host, limit: this.#deps.limits.manifestMaxBytes },
        status: 502
      });
    }
    if (!isDigest(result.digest)) throw new ScanhookError("REGISTRY.INVALID_RESPONSE", `${this.registry.host} sent no valid digest for ${where}`, { status: 502 });
    // The SDK verified the bytes already; checking again keeps the contract here, not in a library.
    verifyBytes(result.content, result.digest, `manifest ${where}`, { host: this.registry.host, repository });
    if (reference.kind === "digest" && result.digest !== reference.digest) {
      throw new ScanhookError("REGISTRY.DIGEST_MISMATCH", `manifest ${where}: the registry answered with ${result.digest}`, { meta: { host: this.registry.host }, status: 502 });
    }
    return { digest: result.digest, ...parseManifest(result.content, result.mediaType, where) };
  }

  async resolveTag(ref: TagRef, options: RequestOptions = {}): Promise<Digest> {
    const repository = checkRepository(ref.repository);
    const tag = checkTag(ref.tag);
    const properties = await sdkCall(`tag ${this.registry.host}/${repository}:${tag}`, this.registry, () =>
      this.#client()
        .getArtifact(repository, tag)
        .getTagProperties(tag, options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal })
    );
    if (!isDigest(properties.digest)) throw new ScanhookError("REGISTRY.INVALID_RESPONSE", `${this.registry.host} sent no valid digest for tag ${tag}`, { status: 502 });
    return properties.digest;
  }

  openBlob(ref: BlobRef, options: OpenBlobOptions = {}): Promise<Readable> {
    return this.#blobs.openBlob(ref, options);
  }

  async *repositoryPages(options: ListOptions = {}): AsyncIterable<string[]> {
    const pages = this.#client()
      .listRepositoryNames(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal })
      .byPage(options.pageSize === undefined ? {} : { maxPageSize: options.pageSize });
    yield* sdkPages(`repository list of ${this.registry.host}`, this.registry, pages, (page) => [...page]);
  }

  async *tagPages(repositoryName: string, options: ListOptions = {}): AsyncIterable<string[]> {
    const repository = checkRepository(repositoryName);
    const pages = this.#client()
      .getArtifact(repository, ANY_ARTIFACT)
      .listTagProperties(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal })
      .byPage(options.pageSize === undefined ? {} : { maxPageSize: options.pageSize });
    yield* sdkPages(`tag list of ${this.registry.host}/${repository}`, this.registry, pages, (page) => page.map((t) => t.name));
  }
}

async function* sdkPages<P>(what: string, registry: RegistryConfig, pages: AsyncIterable<P>, names: (page: P) => string[]): AsyncIterable<string[]> {
  const iterator = pages[Symbol.asyncIterator]();
  for (;;) {
    const next = await sdkCall(what, registry, () => iterator.next());
    if (next.done === true) return;
    yield names(next.value);
  }
}

/**
 * Runs an SDK call and maps what it throws to scanhook's codes. The SDK's `RestError` is not kept
 * as the cause: it holds the request, headers included.
 */
async function sdkCall<T>(what: string, registry: RegistryConfig, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toScanhookError(e, what, registry);
  }
}

export function toScanhookError(e: unknown, what: string, registry: RegistryConfig): ScanhookError {
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof ScanhookError) return c;
  }
  const meta: Record<string, unknown> = { host: registry.host };
  if (e instanceof Error && e.name === "DigestMismatchError") {
    return new ScanhookError("REGISTRY.DIGEST_MISMATCH", `${what}: ${e.message}`, { meta, status: 502 });
  }
  if (e instanceof Error && e.name === "AbortError") return new ScanhookError("REGISTRY.ABORTED", `${what} was aborted`, { meta });
  if (isRestError(e)) {
    const status = e.statusCode;
    const withStatus = { ...meta, ...(status === undefined ? {} : { status }), ...(e.code === undefined ? {} : { registryCode: e.code }) };
    if (status === 404) return new ScanhookError("REGISTRY.NOT_FOUND", `${what} not found (HTTP 404)`, { meta: withStatus, status: 404 });
    if (status === 401 || status === 403) return new ScanhookError("REGISTRY.UNAUTHORIZED", `${what}: access denied (HTTP ${status})`, { meta: withStatus, status: 502 });
    if (status === undefined) return new ScanhookError("REGISTRY.UNREACHABLE", `${what}: ${e.message}`, { meta: withStatus, status: 503 });
    return new ScanhookError(status === 429 || status >= 500 ? "REGISTRY.UNREACHABLE" : "REGISTRY.INVALID_RESPONSE", `${what}: HTTP ${status}`, { meta: withStatus, status: 503 });
  }
  // The SDK's own exchange failures are plain Errors ("Failed to exchange …", "Failed to
  // retrieve 'scope' from challenge"); anything else is reported as the registry failing.
  const message = e instanceof Error ? e.message : String(e);
  const auth = /exchange|token|challenge|JWT/i.test(message);
  return new ScanhookError(auth ? "REGISTRY.UNAUTHORIZED" : "REGISTRY.UNREACHABLE", `${what}: ${message}`, { meta, status: auth ? 502 : 503 });
}
