import type { Settings } from "../shared/config.js";
import { loadProcessSettings } from "../shared/config.js";
import type { ImageRecord } from "../shared/domain/image-record.js";
import { keySetFrom, unresolvedKeyReferences, type KeySet } from "../shared/keys.js";
import type { QueueSender } from "../shared/queues/queues.js";
import { StorageQueueSender } from "../shared/queues/storage-queues.js";
import { openStorageAccount, azureCredential, type StorageAccount } from "../shared/storage-account.js";
import { openStore, type StoreOptions } from "../shared/store/open-store.js";
import type { Store } from "../shared/store/port.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AzureBlobStore } from "../shared/blobs/azure-blobs.js";
import type { BlobStore } from "../shared/blobs/blobs.js";
import { createKeyVaultSecretReader, createRegistryClient } from "../shared/registry/index.js";
import type { RegistryClient } from "../shared/registry/port.js";
import type { Scanner } from "../shared/usecases/process-scan-request.js";
import { PACKAGE_ROOT } from "../shared/version.js";
import { parseQueueSettings } from "./host/host-json.js";
import type { InvokeServices } from "./invoke.js";
import { createScanner, parsePlatforms, scanLimitsFrom } from "../shared/scanner/index.js";
import { PolicyProvider, policySourceFrom } from "../shared/usecases/verdicts-policy.js";
import { observeWrites, VerdictCache } from "../shared/usecases/verdicts-cache.js";
import type { VerdictAnswer } from "../shared/usecases/verdicts.js";
import type { VulnDbProvider } from "../shared/vulndb/provider.js";
import { vulnDbProviderFrom } from "../shared/vulndb/refresh.js";

/**
 * What handlers get: the settings and the adapters behind each port, built once per process. In
 * Azure from the app settings (keys are Key Vault references there); under `npm start` the local
 * host passes its Azurite connection and the keys from the data directory.
 */
export interface Services extends InvokeServices {
  readonly settings: Settings;
  readonly keys: KeySet;
  readonly store: Store<ImageRecord>;
  readonly queues: QueueSender;
  readonly storage: StorageAccount;
  /** SBOMs, the per-layer cache and the vulnerability DB. */
  readonly blobs: BlobStore;
  /** Every registry in `REGISTRIES`, and only those. */
  readonly registry: RegistryClient;
  /** The indexer; undefined until one exists, and images wait in `queued`. */
  readonly scanner: Scanner | undefined;
  /** host.json's `maxDequeueCount`: a queue handler on this attempt is on its last. */
  readonly maxDequeueCount: number;
  readonly startedAt: Date;
  /** The active policy, re-read in the background (`POLICY_LOCATION`, `POLICY_RELOAD_SECONDS`). */
  readonly policy: PolicyProvider;
  /** This instance's verdicts in memory; every write through `store.images` drops what it touched. */
  readonly verdictCache: VerdictCache<VerdictAnswer>;
  /** The current vulnerability DB (`VULNDB_SOURCE`): a file, or the version published as a blob. */
  readonly vulndb: VulnDbProvider;
}

export function storeOptionsFrom(settings: Settings): StoreOptions {
  if (settings.STORE === "cosmos") {
    if (settings.COSMOS_ENDPOINT === undefined) throw new Error("COSMOS_ENDPOINT is required when STORE is cosmos");
    return {
      kind: "cosmos",
      endpoint: settings.COSMOS_ENDPOINT,
      ...(settings.COSMOS_KEY === undefined ? { credential: azureCredential(settings.AZURE_CLIENT_ID) } : { key: settings.COSMOS_KEY }),
      databaseId: settings.COSMOS_DATABASE,
      createIfMissing: settings.COSMOS_CREATE_IF_MISSING
    };
  }
  return { kind: "sqlite", path: settings.SQLITE_PATH ?? join(settings.SCANHOOK_DATA_DIR, "scanhook.sqlite") };
}

export interface ServiceOverrides {
  /** The storage connection string (the local host's Azurite) when AzureWebJobsStorage is unset. */
  readonly storageConnectionString?: string;
  readonly keys?: KeySet;
  /** Defaults to the package's host.json. */
  readonly maxDequeueCount?: number;
}

export async function createServices(settings: Settings, overrides: ServiceOverrides = {}): Promise<Services> {
  const storage = openStorageAccount(settings, settings.AzureWebJobsStorage ?? overrides.storageConnectionString);
  const opened = (await openStore(storeOptionsFrom(settings))) as Store<ImageRecord>;
  const verdictCache = new VerdictCache<VerdictAnswer>({ ttlMs: settings.VERDICT_CACHE_SECONDS * 1000, maxEntries: settings.VERDICT_CACHE_MAX_ENTRIES });
  const store: Store<ImageRecord> = { ...opened, images: observeWrites(opened.images, (id) => verdictCache.invalidate(id)) };
  const blobs = new AzureBlobStore(storage.blobs);
  const policy = new PolicyProvider(policySourceFrom(settings.POLICY_LOCATION, settings.SCANHOOK_DATA_DIR, blobs), {
    reloadMs: settings.POLICY_RELOAD_SECONDS * 1000,
    onError: (message) => console.error(message)
  });
  // A new policy makes every cached answer stale at once (their keys name the old version).
  policy.onChange(() => verdictCache.clear());
  const services: Services = {
    settings,
    keys: overrides.keys ?? keySetFrom(settings),
    store,
    queues: new StorageQueueSender(storage.queues),
    storage,
    blobs,
    registry: createRegistryClient(settings.registries, {
      limits: { manifestMaxBytes: settings.MANIFEST_MAX_BYTES },
      // An entry's own clientId picks a user-assigned identity; else the app's identity.
      tokenCredentialFor: (r) => azureCredential((r.credential.type === "managed-identity" ? r.credential.clientId : undefined) ?? settings.AZURE_CLIENT_ID),
      credentials: { secretReader: createKeyVaultSecretReader(azureCredential(settings.AZURE_CLIENT_ID)) }
    }),
    scanner: undefined,
    maxDequeueCount:
      overrides.maxDequeueCount ?? parseQueueSettings(JSON.parse(readFileSync(join(PACKAGE_ROOT, "host.json"), "utf8")) as unknown).maxDequeueCount,
    startedAt: new Date(),
    policy,
    verdictCache,
    vulndb: vulnDbProviderFrom(settings, blobs)
  };
  return {
    ...services,
    scanner: createScanner({
      images: store.images,
      registry: services.registry,
      blobs: services.blobs,
      limits: scanLimitsFrom(settings),
      platforms: parsePlatforms(settings.SCAN_PLATFORMS),
      match: async (facts, now) => {
        const matcher = await services.vulndb.matcher();
        return matcher?.match(facts, now);
      }
    })
  };
}

let shared: Promise<Services> | undefined;

/** The process's services from its environment, built on first use (Azure Functions). */
export function servicesFromEnvironment(): Promise<Services> {
  shared ??= (async () => {
    const settings = loadProcessSettings();
    const unresolved = unresolvedKeyReferences(settings);
    // Those roles answer 503 AUTH.UNCONFIGURED until the reference resolves; say why once.
    if (unresolved.length > 0) console.error(`Key Vault references not resolved (check the identity's access): ${unresolved.join(", ")}`);
    return createServices(settings);
  })().catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}
