import type { Readable } from "node:stream";
import type { Digest } from "../domain/digest.js";
import { isDigest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";

/**
 * The registry client port: everything scanhook reads from a registry, for any registry in
 * `REGISTRIES` (the host is part of every reference, so one client serves them all and refuses
 * every other host). Adapters: ./oci.ts (any OCI distribution registry) and ./acr.ts (ACR with
 * an Entra ID identity); ./client.ts picks one per registry.
 *
 * Contracts (OCI distribution spec, https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
 * - `getManifest` returns the exact bytes the registry served, their digest (verified against the
 *   reference when it is a digest, and against `Docker-Content-Digest` when the registry sends it)
 *   and the parsed JSON, which the caller still validates with its own schema; bigger than the
 *   manifest limit is `REGISTRY.TOO_LARGE`, read no further.
 * - `openBlob` resolves once the registry answered; the stream is verified while it flows and
 *   errors with `REGISTRY.DIGEST_MISMATCH` instead of ending when the bytes do not match, so a
 *   consumer must treat what it read as untrusted until `end`.
 * - `list…` are lazy: a page is fetched when iteration reaches it.
 * - errors are `ScanhookError`s: `REGISTRY.NOT_ALLOWED` (unlisted host or a refused realm or
 *   redirect), `REGISTRY.NOT_FOUND`, `REGISTRY.UNAUTHORIZED`, `REGISTRY.UNREACHABLE`,
 *   `REGISTRY.TOO_LARGE`, `REGISTRY.DIGEST_MISMATCH`, `REGISTRY.INVALID_REFERENCE`,
 *   `REGISTRY.INVALID_RESPONSE`, `REGISTRY.CREDENTIAL_UNAVAILABLE`, `REGISTRY.ABORTED`.
 */
export interface RegistryClient {
  getManifest(ref: ManifestRef, options?: GetManifestOptions): Promise<Manifest>;
  openBlob(ref: BlobRef, options?: OpenBlobOptions): Promise<Readable>;
  /** The digest a tag points at now, served from a short-lived cache (see `tagCacheTtlInMs`). */
  resolveTag(ref: TagRef, options?: ResolveTagOptions): Promise<Digest>;
  listRepositories(host: string, options?: ListOptions): PagedAsyncIterable<string>;
  listTags(ref: RepositoryRef, options?: ListOptions): PagedAsyncIterable<string>;
  /** Closes pooled connections. */
  close(): void;
}

export interface RepositoryRef {
  /** As listed in `REGISTRIES`: `name[:port]`. */
  readonly host: string;
  readonly repository: string;
}

export interface ManifestRef extends RepositoryRef {
  /** A tag or a digest. */
  readonly reference: string;
}

export interface TagRef extends RepositoryRef {
  readonly tag: string;
}

export interface BlobRef extends RepositoryRef {
  readonly digest: Digest;
}

export interface Manifest {
  readonly digest: Digest;
  /** The media type the registry served (`Content-Type`), or the manifest's own `mediaType`. */
  readonly mediaType: string;
  readonly bytes: Buffer;
  /** The parsed manifest; unvalidated beyond being JSON. */
  readonly json: unknown;
}

export interface RequestOptions {
  readonly abortSignal?: AbortSignal;
}

export type GetManifestOptions = RequestOptions;

export interface ResolveTagOptions extends RequestOptions {
  /** Skip the cache (the answer still refreshes it). */
  readonly fresh?: boolean;
}

export interface OpenBlobOptions extends RequestOptions {
  /** The descriptor's `size`: more or fewer bytes is `REGISTRY.DIGEST_MISMATCH`. */
  readonly expectedSize?: number;
  /** Refuse (`REGISTRY.TOO_LARGE`) a blob bigger than this (the layer size setting). */
  readonly maxBytes?: number;
}

export interface ListOptions extends RequestOptions {
  /** Entries asked for per page (`n`); the registry may send fewer. */
  readonly pageSize?: number;
}

/** Async iteration over entries, or over whole pages with `byPage()`. */
export interface PagedAsyncIterable<T> extends AsyncIterable<T> {
  byPage(): AsyncIterable<T[]>;
}

export function paged<T>(pages: () => AsyncIterable<T[]>): PagedAsyncIterable<T> {
  return {
    byPage: pages,
    async *[Symbol.asyncIterator]() {
      for await (const page of pages()) yield* page;
    }
  };
}

// OCI distribution spec, "Pulling manifests": the repository name and tag grammars.
const REPOSITORY = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

function invalid(message: string, meta: Record<string, unknown>): ScanhookError {
  return new ScanhookError("REGISTRY.INVALID_REFERENCE", message, { meta, status: 400 });
}

/**
 * Checks a repository name before it goes into a URL path: the grammar admits no `..`, `%`, `?`
 * or `#`, so a reference from an event cannot steer a request elsewhere on the registry.
 */
export function checkRepository(repository: string): string {
  if (repository.length > 255 || !REPOSITORY.test(repository)) {
    throw invalid(`not a valid repository name: ${JSON.stringify(repository.slice(0, 300))}`, { repository: repository.slice(0, 300) });
  }
  return repository;
}

export function checkTag(tag: string): string {
  if (!TAG.test(tag)) throw invalid(`not a valid tag: ${JSON.stringify(tag.slice(0, 200))}`, { tag: tag.slice(0, 200) });
  return tag;
}

/** A manifest reference is a digest (`sha256:…`, `sha512:…`) or a tag. */
export function checkReference(reference: string): { kind: "digest"; digest: Digest } | { kind: "tag"; tag: string } {
  if (isDigest(reference)) return { kind: "digest", digest: reference };
  if (reference.includes(":")) throw invalid(`not a supported digest: ${JSON.stringify(reference.slice(0, 200))}`, { reference: reference.slice(0, 200) });
  return { kind: "tag", tag: checkTag(reference) };
}
