import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import type { Settings } from "./config.js";
import { ScanhookError } from "./domain/errors.js";

/**
 * The storage account behind `AzureWebJobsStorage`: a connection string (Azurite locally, or a key
 * in Azure), or identity-based (`AzureWebJobsStorage__accountName`), the secure default in Azure.
 */
export interface StorageAccount {
  readonly queues: QueueServiceClient;
  readonly blobs: BlobServiceClient;
  readonly description: string;
}

/**
 * A webhook waits on the enqueue before it answers, and registries time out in tens of seconds:
 * a few quick retries, then a 503 the registry retries itself (the SDK's default waits ~30 s).
 */
const USER_AGENT = {
  userAgentOptions: { userAgentPrefix: "scanhook" },
  retryOptions: { maxTries: 3, retryDelayInMs: 300, maxRetryDelayInMs: 2000, tryTimeoutInMs: 15_000 }
};

/**
 * The Entra ID credential scanhook's own clients use: a user-assigned managed identity when a
 * client id is given (Azure), else the default chain (a developer's `az login` locally).
 */
export function azureCredential(clientId: string | undefined): TokenCredential {
  return clientId === undefined ? new DefaultAzureCredential() : new ManagedIdentityCredential({ clientId });
}

export function openStorageAccount(settings: Settings, connectionString = settings.AzureWebJobsStorage): StorageAccount {
  if (connectionString !== undefined) {
    const endpoint = /QueueEndpoint=([^;]+)/i.exec(connectionString)?.[1] ?? /AccountName=([^;]+)/i.exec(connectionString)?.[1] ?? "connection string";
    return {
      queues: QueueServiceClient.fromConnectionString(connectionString, USER_AGENT),
      blobs: BlobServiceClient.fromConnectionString(connectionString, USER_AGENT),
      description: endpoint
    };
  }
  const account = settings.AzureWebJobsStorage__accountName;
  if (account !== undefined) {
    const credential = azureCredential(settings.AzureWebJobsStorage__clientId);
    return {
      queues: new QueueServiceClient(`https://${account}.queue.core.windows.net`, credential, USER_AGENT),
      blobs: new BlobServiceClient(`https://${account}.blob.core.windows.net`, credential, USER_AGENT),
      description: `${account} (managed identity)`
    };
  }
  throw new ScanhookError("CONFIG.NO_STORAGE", "no storage account: set AzureWebJobsStorage or AzureWebJobsStorage__accountName (npm start sets it to its Azurite)");
}
