import type { Readable } from "node:stream";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import type { Digest } from "../domain/digest.js";
import type { RegistryConfig } from "../domain/registries.js";
import type { Logger } from "../log.js";
import { AcrRegistry } from "./acr.js";
import { basicCredentialSource, type CredentialDeps } from "./credentials.js";
import { DEFAULT_LIMITS, RegistryGuard, type RegistryLimits, type Resolver } from "./guard.js";
import { createKeyVaultSecretReader } from "./key-vault.js";
import { OciRegistry } from "./oci.js";
import {
  checkRepository,
  checkTag,
  paged,
  type BlobRef,
  type GetManifestOptions,
  type ListOptions,
  type Manifest,
  type ManifestRef,
  type OpenBlobOptions,
  type PagedAsyncIterable,
  type RegistryClient,
  type RepositoryRef,
  type ResolveTagOptions,
  type TagRef
} from "./port.js";
import { dockerTokenSource } from "./tokens.js";
import { RegistryTransport } from "./transport.js";
import { TtlCache } from "./ttl-cache.js";

export interface RegistryClientOptions {
  /** Size bounds; `manifestMaxBytes` is the manifest size setting. */
  readonly limits?: Partial<RegistryLimits>;
  /** How long a resolved tag is trusted; tags move, so keep it short. Default 30 s; 0 disables. */
  readonly tagCacheTtlInMs?: number;
  readonly now?: () => number;
  /** Request lines at debug level; never headers, bodies or query strings. */
  readonly logger?: Logger;
  /** Extra trusted CA certificates (PEM), besides Node's. */
  readonly ca?: readonly string[];
  readonly timeoutInMs?: number;
  /** DNS, for tests. */
  readonly resolve?: Resolver;
  /** Which addresses are not public (realm and redirect checks), for tests. */
  readonly isNonPublicAddress?: (address: string) => boolean;
  /** Environment, Docker config and Key Vault access for user name and password credentials. */
  readonly credentials?: CredentialDeps;
  /**
   * The Entra ID credential for a registry whose credential is `managed-identity`. Defaults to
   * `ManagedIdentityCredential` with the entry's `clientId`; locally any `@azure/identity`
   * credential will do.
   */
  readonly tokenCredentialFor?: (registry: RegistryConfig) => TokenCredential;
  /** Entra ID audience of ACR (sovereign clouds differ). */
  readonly acrAudience?: string;
}

type Adapter = OciRegistry | AcrRegistry;

/**
 * The registry client for every registry in `REGISTRIES`. A `managed-identity` entry is served by
 * the ACR adapter (the only protocol that takes an Entra ID token); every other entry — OCI
 * registries, and ACR with an admin user, a repository token or anonymous pull — by the OCI
 * adapter, which ACR also speaks (Basic auth at its token endpoint).
 */
export function createRegistryClient(registries: readonly RegistryConfig[], options: RegistryClientOptions = {}): RegistryClient {
  const guard = new RegistryGuard(registries, {
    ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
    ...(options.isNonPublicAddress === undefined ? {} : { isNonPublicAddress: options.isNonPublicAddress })
  });
  const transport = new RegistryTransport(guard, {
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.timeoutInMs === undefined ? {} : { timeoutInMs: options.timeoutInMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger })
  });
  const limits: RegistryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const tokenCache = new TtlCache<string>({ now });
  const tagCache = new TtlCache<Digest>({ now });
  const tagTtl = options.tagCacheTtlInMs ?? 30_000;
  const tokenCredentialFor = options.tokenCredentialFor ?? ((r: RegistryConfig) => lazyManagedIdentity(r.credential.type === "managed-identity" ? r.credential.clientId : undefined));
  const credentialDeps: CredentialDeps = {
    now,
    ...options.credentials,
    secretReader: options.credentials?.secretReader ?? createKeyVaultSecretReader(lazyManagedIdentity(undefined))
  };
  const logger = options.logger;
  const adapters = new Map<string, Adapter>();

  const adapterFor = (host: string): Adapter => {
    const registry = guard.registry(host);
    let adapter = adapters.get(registry.host);
    if (adapter !== undefined) return adapter;
    if (registry.credential.type === "managed-identity") {
      adapter = new AcrRegistry({
        registry,
        transport,
        credential: tokenCredentialFor(registry),
        limits,
        tokenCache,
        now,
        ...(options.acrAudience === undefined ? {} : { audience: options.acrAudience }),
        ...(logger === undefined ? {} : { logger })
      });
    } else {
      const credential = basicCredentialSource(registry, credentialDeps);
      adapter = new OciRegistry({
        registry,
        transport,
        credential,
        tokens: dockerTokenSource({ registry, transport, credential, limits, ...(logger === undefined ? {} : { logger }) }),
        limits,
        tokenCache,
        ...(logger === undefined ? {} : { logger })
      });
    }
    adapters.set(registry.host, adapter);
    return adapter;
  };

  const tagKey = (ref: TagRef): string => `${ref.host.toLowerCase()}/${ref.repository}:${ref.tag}`;

  return {
    async getManifest(ref: ManifestRef, requestOptions?: GetManifestOptions): Promise<Manifest> {
      const manifest = await adapterFor(ref.host).getManifest(ref, requestOptions);
      if (!ref.reference.includes(":")) tagCache.set(tagKey({ host: ref.host, repository: ref.repository, tag: ref.reference }), manifest.digest, tagTtl);
      return manifest;
    },
    openBlob(ref: BlobRef, requestOptions?: OpenBlobOptions): Promise<Readable> {
      return adapterFor(ref.host).openBlob(ref, requestOptions);
    },
    async resolveTag(ref: TagRef, requestOptions: ResolveTagOptions = {}): Promise<Digest> {
      const adapter = adapterFor(ref.host);
      checkRepository(ref.repository);
      checkTag(ref.tag);
      const key = tagKey(ref);
      if (requestOptions.fresh !== true) {
        const hit = tagCache.get(key);
        if (hit !== undefined) return hit;
      }
      const digest = await adapter.resolveTag(ref, requestOptions);
      tagCache.set(key, digest, tagTtl);
      return digest;
    },
    listRepositories(host: string, listOptions?: ListOptions): PagedAsyncIterable<string> {
      return paged(() => adapterFor(host).repositoryPages(listOptions));
    },
    listTags(ref: RepositoryRef, listOptions?: ListOptions): PagedAsyncIterable<string> {
      return paged(() => adapterFor(ref.host).tagPages(ref.repository, listOptions));
    },
    close(): void {
      transport.close();
    }
  };
}

/**
 * A managed identity credential that loads `@azure/identity` on first use, so a deployment
 * without any ACR or Key Vault entry never loads it.
 */
function lazyManagedIdentity(clientId: string | undefined): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes: string | string[], getTokenOptions?: GetTokenOptions): Promise<AccessToken | null> {
      credential ??= import("@azure/identity").then(
        ({ ManagedIdentityCredential }) => (clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId })) as TokenCredential
      );
      return (await credential).getToken(scopes, getTokenOptions);
    }
  };
}
